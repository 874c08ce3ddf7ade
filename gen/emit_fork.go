package gen

import "github.com/dave/jennifer/jen"

// fork writes ForkF: dbosimpl.Fork, then wrap the handle.
func (e *funcEmitter) fork() {
	l, n := e.l, e.n
	if e.fn.Kind == kindWorkflow {
		e.doc("%s starts a new workflow of %s from the existing call %s: the same input, with a copy of the checkpoints of %s's steps before %s (numbered from 1, as dbos.Steps reports them), so those steps are replayed and the steps from %s on run again; %s 1 runs it all again. The call forked is not changed. The new workflow goes on the call's queue, or, if it had none, starts in this process. Inside a workflow it is a checkpointed step, so a replay does not fork twice. It fails with an error matching dbos.ErrNotFound when %s does not exist and dbos.ErrConflictingID when it is a call of another function. %s can set the workflow ID, timeout and delay; see dbos.Fork.",
			n.Fork, e.fn.Name, l.ID, l.ID, l.FromStep, l.FromStep, l.FromStep, l.ID, l.Opts)
	} else {
		e.doc("%s runs the existing call %s of %s again, with the same input, as a new workflow: on the call's queue, or, if it had none, started in this process. A step records no checkpoints of its own, so %s must be 1. The call forked is not changed. Inside a workflow it is a checkpointed step, so a replay does not fork twice. It fails with an error matching dbos.ErrNotFound when %s does not exist and dbos.ErrConflictingID when it is a call of another function. %s can set the workflow ID, timeout and delay; see dbos.Fork.",
			n.Fork, l.ID, e.fn.Name, l.FromStep, l.ID, l.Opts)
	}
	e.f.Func().Id(n.Fork).Params(
		jen.Id(l.Ctx).Add(ctxType()),
		jen.Id(l.ID).String(),
		jen.Id(l.FromStep).Int(),
		jen.Id(l.Opts).Op("...").Add(rt("EnqueueOption")),
	).Params(jen.Op("*").Id(n.Handle), jen.Error()).Block(
		jen.List(jen.Id(l.H), jen.Id(l.Err)).Op(":=").Add(impl("Fork")).Call(jen.Id(l.Ctx), jen.Id(n.Fn), jen.Id(l.ID), jen.Id(l.FromStep), jen.Id(l.Opts).Op("...")),
		e.ifErr(jen.Nil(), jen.Id(l.Err)),
		jen.Return(jen.Op("&").Id(n.Handle).Values(jen.Id("h").Op(":").Id(l.H)), jen.Nil()),
	)
}
