package bench

import (
	"math"
	"slices"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p <= 1) of
// sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// median returns the median of vs (the mean of the middle two for an even
// count), or 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// rateJudgement is what judgeRate finds in a rate-limited queue's starts.
type rateJudgement struct {
	// perSecond is the start rate over the full windows: with n starts and
	// a limit of L per period, a perfect limiter starts L at once, L more
	// one period later, and so on, so the first n-r starts (r = the size
	// of the last, possibly partial, window) fill ceil(n/L)-1 full windows
	// and the last window opens (ceil(n/L)-1) periods after the first
	// start. perSecond is those (ceil(n/L)-1)·L starts divided by the time
	// from the first start to the last; a perfect limiter scores exactly
	// L per period, a slow one less. 0 when every start fell at one instant.
	perSecond float64
	// overLimit counts the starts s whose window [s, s+period) holds more
	// than limit starts: each is a broken promise.
	overLimit int
}

// judgeRate judges start times recorded on a RateLimit(limit, period) queue.
func judgeRate(starts []time.Time, limit int, period time.Duration) rateJudgement {
	s := slices.Clone(starts)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	var j rateJudgement
	if len(s) == 0 {
		return j
	}
	full := (len(s)+limit-1)/limit - 1
	if span := s[len(s)-1].Sub(s[0]); span > 0 && full > 0 {
		j.perSecond = float64(full*limit) / span.Seconds()
	}
	end := 0
	for i := range s {
		for end < len(s) && s[end].Before(s[i].Add(period)) {
			end++
		}
		if end-i > limit {
			j.overLimit++
		}
	}
	return j
}

// millis is d in (fractional) milliseconds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
