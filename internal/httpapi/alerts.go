package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/internal/ingest"
)

// postAlerts is POST /v1/alerts/{source}[/{secret}]. It answers 202 only
// once every alert in the body is recorded in its incident's history.
func (h *handler) postAlerts(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("source")
	src, ok := h.d.Sources[name]
	metricSource := name
	if !ok {
		// Unknown names are caller-chosen; they must not become labels.
		metricSource = "unknown"
	}
	code := http.StatusAccepted
	defer func() {
		h.d.Metrics.ingestDuration.WithLabelValues(metricSource, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	}()
	fail := func(status int, result, msg string) {
		code = status
		h.d.Metrics.alertsReceived.WithLabelValues(metricSource, result).Inc()
		writeError(w, status, msg)
	}
	log := h.d.Logger.With(zap.String("source", name))
	if !ok {
		fail(http.StatusNotFound, resultInvalid, fmt.Sprintf("unknown source %q", name))
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.d.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(http.StatusRequestEntityTooLarge, resultTooLarge, fmt.Sprintf("body is over the %d-byte limit (ingest.max_body_bytes)", h.d.MaxBodyBytes))
			return
		}
		fail(http.StatusBadRequest, resultInvalid, "read body: "+err.Error())
		return
	}

	secret := r.PathValue("secret")
	who, err := h.authenticateIngest(r, name, src.Auth, secret, secret != "", body, h.d.Now())
	if err != nil {
		log.Info("alert webhook refused", zap.String("reason", err.Error()), zap.String("remote_addr", r.RemoteAddr))
		w.Header().Set("WWW-Authenticate", `Bearer realm="riposte"`)
		fail(http.StatusUnauthorized, resultUnauthorized, err.Error())
		return
	}

	opts := src.Source.Options
	opts.ReceivedAt = h.d.Now()
	list, err := src.Source.Normalizer.Normalize(body, opts)
	if err != nil {
		fail(http.StatusBadRequest, resultInvalid, err.Error())
		return
	}
	acc, err := h.d.Recorder.Record(r.Context(), src.Source, list)
	if err != nil {
		if errors.Is(err, ingest.ErrUnavailable) {
			log.Warn("alerts not recorded; temporal unavailable", zap.Int("recorded", len(acc)), zap.Int("alerts", len(list)), zap.Error(err))
			w.Header().Set("Retry-After", "5")
			fail(http.StatusServiceUnavailable, resultUnavailable, "temporal is unavailable; retry later")
			return
		}
		log.Error("alerts not recorded", zap.Int("recorded", len(acc)), zap.Error(err))
		fail(http.StatusInternalServerError, resultError, "alerts not recorded: "+err.Error())
		return
	}
	for _, a := range acc {
		result := resultAccepted
		switch {
		case a.Suppressed:
			result = resultSuppressed
		case a.Deduplicated:
			result = resultDeduplicated
		}
		h.d.Metrics.alertsReceived.WithLabelValues(metricSource, result).Inc()
	}
	log.Debug("alerts recorded", zap.String("by", who), zap.Int("alerts", len(acc)))
	b, err := ingest.MarshalAccepted(acc)
	if err != nil {
		fail(http.StatusInternalServerError, resultError, "encode response")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(append(b, '\n'))
}
