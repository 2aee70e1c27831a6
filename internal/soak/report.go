package soak

import (
	"fmt"
	"strings"
	"time"
)

// Report is what a soak found.
type Report struct {
	People, Nodes, Sessions, Tabs int
	Duration                      time.Duration
	Kinds                         [kinds]int
	Faults                        map[FaultKind]int

	Warns int // warn frames the tabs received
	Ends  int // ends delivered to the receiver

	FalseLogouts  int // an active person warned or ended
	MissedLogouts int // an end later than a second past its deadline, outside faults
	LostEnds      int // an end the receiver never got
	Repeated      int // deliveries beyond the first for one Idempotency-Key
	EndedTwice    int // sessions whose end was delivered under two keys

	MaxLate        time.Duration // the latest end outside faults, after its deadline
	LateInFault    int           // ends later than a second, within a fault's allowance
	MaxLateInFault time.Duration

	FailedCalls       int           // the application's API calls a node failed or refused, sent again
	SlowestReport     time.Duration // the application's longest round of reports
	RefusedDeliveries int           // deliveries answered 500 while the receiver was down
	BadDeliveries     int           // deliveries that were not a valid signed end

	Examples []string // the first failures, and every lost end, for a person to look into
	Notes    []string // problems of the soak itself
	shown    int      // the examples of failures other than lost ends
}

// maxExamples is how many false and missed logouts a report lists.
const maxExamples = 20

func (rep *Report) example(s string) {
	if rep.shown < maxExamples {
		rep.shown++
		rep.Examples = append(rep.Examples, s)
	}
}

// lostEnd records a lost end; every one is listed, since each may be a
// different hole.
func (rep *Report) lostEnd(s string) {
	rep.LostEnds++
	rep.Examples = append(rep.Examples, s)
}

// Failed reports whether the soak found a broken invariant: a false or
// missed logout, a lost end, an end decided twice or a delivery that was
// not a valid signed end.
func (rep *Report) Failed() bool {
	return rep.FalseLogouts+rep.MissedLogouts+rep.LostEnds+rep.EndedTwice+rep.BadDeliveries > 0
}

// String is the report as a markdown table, with the failures' examples
// under it.
func (rep *Report) String() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "| %s | %v |\n", k, v) }
	b.WriteString("| soak | |\n| --- | --- |\n")
	row("people at once", rep.People)
	row("sessions", fmt.Sprintf("%d (%s)", rep.Sessions, rep.kinds()))
	row("tabs opened", rep.Tabs)
	row("nodes", rep.Nodes)
	row("working time", rep.Duration.Round(time.Second))
	row("faults", rep.faults())
	row("warnings received", rep.Warns)
	row("ends delivered", rep.Ends)
	row("**false logouts**", rep.FalseLogouts)
	row("**missed logouts**", rep.MissedLogouts)
	row("**lost ends**", rep.LostEnds)
	row("repeated deliveries (dropped by Idempotency-Key)", rep.Repeated)
	row("ends decided twice", rep.EndedTwice)
	row("latest end after its deadline, outside faults", rep.MaxLate.Round(time.Millisecond))
	row("ends later than 1 s, within a fault and its recovery", fmt.Sprintf("%d (latest %v)", rep.LateInFault, rep.MaxLateInFault.Round(time.Millisecond)))
	row("application API calls failed and sent again", rep.FailedCalls)
	row("the application's slowest round of reports", rep.SlowestReport.Round(time.Millisecond))
	row("deliveries refused while the receiver was down", rep.RefusedDeliveries)
	row("deliveries that were not a valid signed end", rep.BadDeliveries)
	for _, e := range rep.Examples {
		fmt.Fprintf(&b, "\n- %s", e)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "\n- soak: %s", n)
	}
	if len(rep.Examples)+len(rep.Notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

func (rep *Report) kinds() string {
	var parts []string
	for k, n := range rep.Kinds {
		parts = append(parts, fmt.Sprintf("%s %d", Kind(k), n))
	}
	return strings.Join(parts, ", ")
}

func (rep *Report) faults() string {
	var parts []string
	for _, k := range []FaultKind{KillNode, RestartRedis, WebhookDown, CutTabs} {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, rep.Faults[k]))
	}
	return strings.Join(parts, ", ")
}
