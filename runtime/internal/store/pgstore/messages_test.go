package pgstore

import (
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// TestMessageNotifications: EventMessage and EventSet become one payload
// per workflow on their channels and parse back; an ID too long for a
// payload becomes a resync.
func TestMessageNotifications(t *testing.T) {
	evs := []store.Event{
		{Kind: store.EventMessage, WorkflowID: "a"},
		{Kind: store.EventMessage, WorkflowID: "a"},
		{Kind: store.EventSet, WorkflowID: "a"},
		{Kind: store.EventMessage, WorkflowID: "b"},
	}
	channels, payloads := notifications(evs, "o1")
	var got []store.Event
	for i := range channels {
		got = append(got, parseNotification(&pgconn.Notification{Channel: channels[i], Payload: payloads[i]})...)
	}
	want := []store.Event{evs[0], evs[2], evs[3]}
	if !slices.Equal(got, want) {
		t.Errorf("parsed %v, want %v", got, want)
	}
	long := store.Event{Kind: store.EventSet, WorkflowID: strings.Repeat("x", maxPayload+1)}
	channels, payloads = notifications([]store.Event{long}, "o1")
	if !slices.Equal(channels, []string{channelCompleted}) || !slices.Equal(payloads, []string{payloadResync}) {
		t.Errorf("notifications of a too long ID = %v %.40q, want one resync", channels, payloads)
	}
}
