// Package integrations groups one sub-package per external system (slack,
// rt, jira, nftables, edl, ...) plus httpx, the shared HTTP client factory.
// Integrations import only the standard library and vendor SDKs.
package integrations
