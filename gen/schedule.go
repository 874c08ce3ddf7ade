package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/robfig/cron/v3"
)

// cronParser parses schedule= values the way the runtime does (package
// schedule under runtime/internal): five fields, or six with seconds
// first, or a descriptor such as @hourly or @every 10m, optionally after
// CRON_TZ=<zone> (the runtime's default zone is UTC).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// scheduleExamples shows valid schedule= values in messages.
const scheduleExamples = `schedule="*/10 * * * * *" (every 10 seconds), schedule="0 30 9 * * MON-FRI" (9:30 UTC on weekdays), schedule="0 * * * *" (every hour) or schedule="@every 5m"`

// setSchedule sets the cron expression of a scheduled workflow.
func setSchedule(s *settings, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("the schedule is empty; write a cron expression such as %s", scheduleExamples)
	}
	if err := parseSchedule(value); err != nil {
		return err
	}
	s.Schedule = value
	return nil
}

// parseSchedule checks a schedule= value with the cron library, quoting its
// reason when it rejects the value.
func parseSchedule(value string) error {
	if (strings.HasPrefix(value, "TZ=") || strings.HasPrefix(value, "CRON_TZ=")) && !strings.Contains(strings.TrimSpace(value), " ") {
		// The cron library would panic on it.
		return fmt.Errorf("the time zone is followed by no schedule; write CRON_TZ=<zone> and then the cron expression, such as schedule=\"CRON_TZ=Europe/Paris 0 0 9 * * *\" (9:00 in Paris)")
	}
	if _, err := cronParser.Parse(value); err != nil {
		return fmt.Errorf("not a valid cron expression: %v; write minute hour day-of-month month day-of-week, optionally with seconds first, quoted when it has spaces, such as %s", err, scheduleExamples)
	}
	return nil
}

// setBackfill sets whether missed ticks are created at launch.
func setBackfill(s *settings, value string) error {
	switch value {
	case "true":
		s.Backfill = some(true)
	case "false":
		s.Backfill = some(false)
	default:
		return fmt.Errorf("want true or false: whether the ticks missed while no process ran are run at launch (default false)")
	}
	return nil
}

// checkBackfill reports backfill= without schedule=.
func checkBackfill(s *settings, written map[string]string) error {
	if _, ok := written["schedule"]; !ok {
		return fmt.Errorf("backfill= has no effect without schedule=; add schedule=\"<cron expression>\" to run the workflow on a schedule, or remove backfill=")
	}
	return nil
}

// scheduleFields returns the descriptor fields of a scheduled workflow:
// Schedule, Backfill when written, and TickArgs, which builds the
// argument struct of the call at a tick; none for an unscheduled function.
func (e *funcEmitter) scheduleFields() []jen.Code {
	p := e.fn.Policy
	if p.Schedule == "" {
		return nil
	}
	fields := []jen.Code{jen.Id("Schedule").Op(":").Lit(p.Schedule)}
	if p.Backfill.Set {
		fields = append(fields, jen.Id("Backfill").Op(":").Lit(p.Backfill.Value))
	}
	at := "at"
	fields = append(fields, jen.Id("TickArgs").Op(":").Func().Params(jen.Id(at).Qual("time", "Time")).Any().Block(
		jen.Return(jen.Id(e.n.Args).Values(jen.Id(e.fn.Params[0].Field).Op(":").Id(at))),
	))
	return fields
}
