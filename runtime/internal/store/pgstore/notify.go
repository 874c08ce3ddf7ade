package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// maxPayload is the longest payload Notify sends, in bytes (Postgres refuses
// 8000 or more).
const maxPayload = 7900

// maxInlineEnd is the most bytes of output and error a completion carries
// in its notification, so that the waiters of other processes need not read
// the workflow's end (a read per awaited workflow, for a process that
// enqueues what others run); a longer end is read. Small enough that a
// payload still holds dozens of completions.
const maxInlineEnd = 200

// Notify sends evs with one statement (so one notifying commit however many
// there are): one dbos_enqueued (dbos_hungry) per distinct queue enqueued
// to (wanted), one dbos_message (dbos_event) per distinct workflow sent a
// message (that set an event), the completions packed into as few dbos_completed JSON
// arrays of at most maxPayload bytes as they fit in, and one
// dbos_completed "resync" for any EventResync, or in place of an event too
// long for a payload.
func (s *Store) Notify(ctx context.Context, evs []store.Event) error {
	if len(evs) == 0 {
		return nil
	}
	channels, payloads := notifications(evs, s.origin)
	if err := s.q.Notify(ctx, pgdb.NotifyParams{Channels: channels, Payloads: payloads}); err != nil {
		return fmt.Errorf("notify %d events: %w", len(evs), err)
	}
	return nil
}

// notifications builds the (channel, payload) pairs of Notify; each
// dbos_completed JSON array names origin in its first element (see
// ownPrefix).
func notifications(evs []store.Event, origin string) (channels, payloads []string) {
	head := ownPrefix(origin) // what opens each array, before its first row's fields
	add := func(channel, payload string) {
		channels = append(channels, channel)
		payloads = append(payloads, payload)
	}
	resync := false
	seen := make(map[store.Event]bool) // EventEnqueued and EventHungry of a queue, EventMessage and EventSet of a workflow, once
	var batch []byte                   // a JSON array being filled, without its closing ']'
	flush := func() {
		if len(batch) > 0 {
			add(channelCompleted, string(append(batch, ']')))
			batch = batch[:0:0]
		}
	}
	for _, ev := range evs {
		switch ev.Kind {
		case store.EventEnqueued, store.EventHungry:
			channel := channelEnqueued
			if ev.Kind == store.EventHungry {
				channel = channelHungry
			}
			key := store.Event{Kind: ev.Kind, Queue: ev.Queue}
			if len(ev.Queue) > maxPayload {
				resync = true
			} else if !seen[key] {
				seen[key] = true
				add(channel, ev.Queue)
			}
		case store.EventMessage, store.EventSet:
			channel := channelMessage
			if ev.Kind == store.EventSet {
				channel = channelEvent
			}
			key := store.Event{Kind: ev.Kind, WorkflowID: ev.WorkflowID}
			if len(ev.WorkflowID) > maxPayload {
				resync = true
			} else if !seen[key] {
				seen[key] = true
				add(channel, ev.WorkflowID)
			}
		case store.EventCompleted:
			r := completedRow{Queue: ev.Queue, ID: ev.WorkflowID}
			if e := ev.End; e != nil && e.State != "" && len(e.Output)+len(e.Error) <= maxInlineEnd {
				r.End = &completedEnd{State: e.State, Output: e.Output, Error: e.Error}
			}
			row, err := json.Marshal(r) // {"queue":...}: never empty
			if err != nil || len(head)+len(row)+1 > maxPayload {
				resync = true
				continue
			}
			if len(batch)+1+len(row)+1 > maxPayload {
				flush()
			}
			if len(batch) == 0 {
				batch = append(append(batch, head...), row[1:]...)
			} else {
				batch = append(append(batch, ','), row...)
			}
		default:
			resync = true
		}
	}
	flush()
	if resync {
		add(channelCompleted, payloadResync)
	}
	return channels, payloads
}
