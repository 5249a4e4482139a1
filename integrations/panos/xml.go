package panos

import (
	"encoding/xml"
	"strings"
)

// uidMessage is the User-ID API document, e.g.
//
//	<uid-message><type>update</type><payload><register>
//	  <entry ip="10.0.0.1"><tag><member timeout="3600">riposte-block</member></tag></entry>
//	</register></payload></uid-message>
type uidMessage struct {
	XMLName xml.Name   `xml:"uid-message"`
	Type    string     `xml:"type"`
	Payload uidPayload `xml:"payload"`
}

type uidPayload struct {
	Register   *uidEntries `xml:"register,omitempty"`
	Unregister *uidEntries `xml:"unregister,omitempty"`
}

type uidEntries struct {
	Entries []uidEntry `xml:"entry"`
}

type uidEntry struct {
	IP      string      `xml:"ip,attr"`
	Members []uidMember `xml:"tag>member"`
}

type uidMember struct {
	Timeout string `xml:"timeout,attr,omitempty"` // seconds; "0" never expires
	Tag     string `xml:",chardata"`
}

// apiResponse is <response status="success|error" code="N">. Error text sits
// in msg/line (with per-entry results for user-id), result/msg/line,
// result/msg or msg, depending on the request type.
type apiResponse struct {
	XMLName xml.Name `xml:"response"`
	Status  string   `xml:"status,attr"`
	Code    string   `xml:"code,attr"`
	Msg     xmlMsg   `xml:"msg"`
	Result  struct {
		Msg    xmlMsg `xml:"msg"`
		System *struct {
			Hostname  string `xml:"hostname"`
			SWVersion string `xml:"sw-version"`
		} `xml:"system"`
	} `xml:"result"`
}

type xmlMsg struct {
	Text  string    `xml:",chardata"`
	Lines []xmlLine `xml:"line"`
}

type xmlLine struct {
	Text   string   `xml:",chardata"`
	Nested []string `xml:"line"`
	UID    *struct {
		Payload struct {
			Ops []struct {
				Entries []uidResult `xml:"entry"`
			} `xml:",any"`
		} `xml:"payload"`
	} `xml:"uid-response"`
}

// uidResult is one entry of a user-id answer: <entry ip="..." message="..."/>.
type uidResult struct {
	IP      string `xml:"ip,attr"`
	Message string `xml:"message,attr"`
}

func (r *apiResponse) uidEntries() []uidResult {
	var out []uidResult
	for _, l := range r.Msg.Lines {
		if l.UID == nil {
			continue
		}
		for _, op := range l.UID.Payload.Ops {
			out = append(out, op.Entries...)
		}
	}
	return out
}

// text joins every message the response carries.
func (r *apiResponse) text() string {
	var parts []string
	add := func(s string) {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			parts = append(parts, s)
		}
	}
	for _, e := range r.uidEntries() {
		add(e.Message)
	}
	for _, m := range []xmlMsg{r.Msg, r.Result.Msg} {
		for _, l := range m.Lines {
			add(l.Text)
			for _, n := range l.Nested {
				add(n)
			}
		}
		add(m.Text)
	}
	return strings.Join(parts, "; ")
}

// describe renders an unsuccessful response for an error message.
func (r *apiResponse) describe() string {
	s := "status " + r.Status
	if r.Status == "" {
		s = "no status"
	}
	if r.Code != "" {
		s += " code " + r.Code
	}
	if t := r.text(); t != "" {
		s += ": " + t
	}
	return s
}

// xmlMessage extracts the text of an XML error body ("" when s is not one).
func xmlMessage(s string) string {
	var r apiResponse
	if xml.Unmarshal([]byte(s), &r) != nil {
		return ""
	}
	return r.text()
}
