package detect

// myNumberValid checks the My Number check digit (last of 12): weights
// 6,5,4,3,2,7,6,5,4,3,2 over the first 11 digits, cd = 11 − (Σ mod 11),
// 0 when the remainder is 0 or 1.
func myNumberValid(d []byte) bool { return len(d) == 12 && residentMod11(d) }

// juminhyoValid checks the 住民票コード check digit (last of 11): the same
// modulus-11 scheme, which the My Number inherited, over ten digits.
func juminhyoValid(d []byte) bool { return len(d) == 11 && residentMod11(d) }

// residentMod11 checks the last digit of d against the others: weights
// 2..7 then 2..6 counted from the right (Qn = n+1 for n ≤ 6, n−5 after),
// cd = 11 − (Σ mod 11), 0 when the remainder is 0 or 1.
func residentMod11(d []byte) bool {
	last := len(d) - 1
	sum := 0
	for i := 0; i < last; i++ {
		n := last - i // position counted from the right
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += int(d[i]-'0') * q
	}
	cd := 0
	if r := sum % 11; r > 1 {
		cd = 11 - r
	}
	return int(d[last]-'0') == cd
}

// corporateValid checks the Corporate Number check digit (first of 13):
// weights 1,2 alternating from the right over the other 12, cd = 9 − (Σ mod 9).
func corporateValid(d []byte) bool {
	if len(d) != 13 {
		return false
	}
	sum := 0
	for i := 1; i < 13; i++ {
		n := 13 - i
		q := 1
		if n%2 == 0 {
			q = 2
		}
		sum += int(d[i]-'0') * q
	}
	return int(d[0]-'0') == 9-sum%9
}

func luhnValid(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// prefixNum returns the first n digits of d as a number.
func prefixNum(d []byte, n int) int {
	v := 0
	for i := 0; i < n && i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// cardIssuer reports whether d has a length and prefix that a card network
// issues (Visa, Mastercard, Amex, JCB, Diners, Discover, UnionPay).
func cardIssuer(d []byte) bool {
	n := len(d)
	p2, p3, p4 := prefixNum(d, 2), prefixNum(d, 3), prefixNum(d, 4)
	switch {
	case d[0] == '4':
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39:
		return n >= 14 && n <= 19
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649, p2 == 62:
		return n >= 16 && n <= 19
	}
	return false
}

// cardGrouping accepts the ways card numbers are printed.
func cardGrouping(lens []int) bool {
	switch len(lens) {
	case 1:
		return true
	case 3: // Amex 4-6-5, Diners 4-6-4
		return lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4)
	case 4, 5:
		for i, l := range lens {
			if i < 4 && l != 4 || i == 4 && l > 3 {
				return false
			}
		}
		return true
	}
	return false
}

// phoneValid reports whether national digits d form a Japanese number:
// mobile/IP 070/080/090/050 + 8, free dial 0120 + 6 and 0800 + 7, navi dial
// 0570 + 6, or a 10-digit landline 0[1-9]….
func phoneValid(d []byte) bool {
	if len(d) < 10 || d[0] != '0' {
		return false
	}
	p3 := prefixNum(d, 3)
	switch len(d) {
	case 11:
		return p3 == 70 || p3 == 80 || p3 == 90 || p3 == 50 || prefixNum(d, 4) == 800
	case 10:
		if d[1] == '0' || p3 == 70 || p3 == 80 || p3 == 90 || p3 == 50 || p3 == 20 || p3 == 60 {
			return false
		}
		return prefixNum(d, 4) != 800
	}
	return false
}

// phoneGrouping accepts the printed forms: area code of 2–5 digits (with the
// trunk 0) and a 4-digit line number for landlines, 3-4-4 for mobiles,
// 4-3-3 for 0120/0570, 4-3-4 for 0800.
func phoneGrouping(d []byte, lens []int) bool {
	switch len(lens) {
	case 1:
		return true
	case 3:
	default:
		return false
	}
	a, m, l := lens[0], lens[1], lens[2]
	if len(d) == 11 {
		if prefixNum(d, 4) == 800 {
			return a == 4 && m == 3 && l == 4
		}
		return a == 3 && m == 4 && l == 4
	}
	if p4 := prefixNum(d, 4); p4 == 120 || p4 == 570 {
		return a == 4 && (m == 3 && l == 3 || m == 2 && l == 4)
	}
	return l == 4 && a >= 2 && a <= 5 && a+m == 6
}
