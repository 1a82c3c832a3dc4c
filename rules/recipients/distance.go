package recipients

// maxDistanceLen bounds the strings editDistance compares; domain labels are
// at most 63 octets, so anything longer is not worth comparing.
const maxDistanceLen = 64

// editDistance is the optimal-string-alignment Damerau–Levenshtein distance
// between a and b (insertions, deletions, substitutions and transpositions of
// adjacent characters), computed over runes. It returns limit+1 as soon as
// the distance is known to exceed limit, and for inputs longer than
// maxDistanceLen.
func editDistance(a, b []rune, limit int) int {
	n, m := len(a), len(b)
	if n > maxDistanceLen || m > maxDistanceLen {
		return limit + 1
	}
	if d := n - m; d > limit || -d > limit {
		return limit + 1
	}
	// Three rolling rows: the transposition needs the row before the last.
	var rows [3][maxDistanceLen + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= m; j++ {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[m] > limit {
		return limit + 1
	}
	return prev[m]
}
