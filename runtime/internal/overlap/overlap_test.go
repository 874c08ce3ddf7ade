package overlap

import "testing"

func TestMax(t *testing.T) {
	for _, c := range []struct {
		name       string
		ivs        []Interval
		limit      int
		most, over int
	}{
		{"none", nil, 1, 0, 0},
		{"touching", []Interval{{0, 10}, {10, 20}, {20, 30}}, 1, 1, 0},
		{"nested", []Interval{{0, 30}, {5, 10}, {6, 8}}, 2, 3, 1},
		{"two over", []Interval{{0, 10}, {1, 10}, {2, 10}, {3, 4}}, 2, 4, 2},
	} {
		if most, over := Max(c.ivs, c.limit); most != c.most || over != c.over {
			t.Errorf("%s: Max = %d, %d; want %d, %d", c.name, most, over, c.most, c.over)
		}
	}
}
