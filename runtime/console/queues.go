package console

import (
	"fmt"
	"net/http"
	"net/url"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// queuesPage is the data of the queues page.
type queuesPage struct {
	Queues   []dbos.QueueInfo
	Enqueued int // summed over the queues
	Running  int
	Paused   int
}

// queuesPage shows every queue: GET /.
func (h *handler) queuesPage(w http.ResponseWriter, r *http.Request) {
	qs, err := dbos.ListQueues(h.ctx(r))
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	data := queuesPage{Queues: qs}
	for _, q := range qs {
		data.Enqueued += q.Enqueued
		data.Running += q.Running
		if q.Paused {
			data.Paused++
		}
	}
	h.render(w, http.StatusOK, "queues", h.newView(r, "queues", "Queues", data))
}

// pauseQueue pauses a queue: POST /queues/{name}/pause.
func (h *handler) pauseQueue(w http.ResponseWriter, r *http.Request) { h.setPaused(w, r, true) }

// resumeQueue resumes a queue: POST /queues/{name}/resume.
func (h *handler) resumeQueue(w http.ResponseWriter, r *http.Request) { h.setPaused(w, r, false) }

// setPaused pauses or resumes the queue the path names, which must be one
// ListQueues knows (a misspelt name would pause nothing that runs), then
// sends the browser back to the queues page.
func (h *handler) setPaused(w http.ResponseWriter, r *http.Request, paused bool) {
	ctx := h.ctx(r)
	name := r.PathValue("name")
	qs, err := dbos.ListQueues(ctx)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	known := false
	for _, q := range qs {
		known = known || q.Name == name
	}
	if !known {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no queue named %q: no process declared or paused it, and no workflow waits on it.", name))
		return
	}
	if paused {
		err = dbos.PauseQueue(ctx, name)
	} else {
		err = dbos.ResumeQueue(ctx, name)
	}
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.redirect(w, r, "/#queue-"+url.PathEscape(name))
}
