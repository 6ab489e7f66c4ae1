package io.sgstreams.tools.calc;

/**
 * A safe arithmetic evaluator, written by hand: recursive descent over numbers (integers and
 * decimals with an optional exponent), {@code + - * / % ^} ({@code ^} right-associative and
 * binding tighter than unary minus, so {@code -2^2 = -4}), unary {@code + -} and parentheses.
 *
 * <p>No scripting engine, no reflection, no names: nothing but arithmetic can run. Input length,
 * nesting depth and literal exponents are bounded, so evaluation time and stack are bounded too.
 * Integers are computed exactly as {@code long}s while they fit and fall back to {@code double}
 * on overflow. {@code %} is the truncated remainder (sign of the dividend, like Java and C).
 *
 * <p>The result is a {@link Long} when it is integral and fits in a long ({@code "2*21"} is
 * {@code 42L}, {@code "0.5*4"} is {@code 2L}), else a {@link Double}. Thread-safe and immutable.
 */
public final class Calculator {
  /** Most nested parentheses / unary operators / powers. */
  public static final int DEFAULT_MAX_DEPTH = 64;
  /** Most digits in a literal's exponent ({@code 1e999} is accepted, then overflows). */
  static final int MAX_EXPONENT_DIGITS = 3;

  private final int maxChars;
  private final int maxDepth;

  public Calculator(int maxChars, int maxDepth) {
    if (maxChars <= 0 || maxDepth <= 0) {
      throw new IllegalArgumentException("maxChars and maxDepth must be positive");
    }
    this.maxChars = maxChars;
    this.maxDepth = maxDepth;
  }

  public Calculator(int maxChars) {
    this(maxChars, DEFAULT_MAX_DEPTH);
  }

  public int maxChars() {
    return maxChars;
  }

  /**
   * Evaluates {@code expr}.
   *
   * @return a {@link Long} or a {@link Double}, never infinite nor NaN
   * @throws CalcException with the position at fault
   */
  public Number evaluate(String expr) {
    if (expr == null) {
      throw new CalcException("no expression", 1);
    }
    if (expr.length() > maxChars) {
      throw new CalcException("expression is " + expr.length() + " characters long, the limit is " + maxChars,
          maxChars + 1);
    }
    Num n = new Parser(expr, maxDepth).parseAll();
    return n.toResult();
  }

  /** A value during evaluation: an exact long, or a double. */
  private record Num(boolean exact, long l, double d) {
    static Num of(long l) {
      return new Num(true, l, l);
    }

    static Num of(double d, int pos) {
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new CalcException("result is not a finite number (overflow)", pos);
      }
      return new Num(false, 0, d);
    }

    double asDouble() {
      return exact ? (double) l : d;
    }

    boolean isZero() {
      return exact ? l == 0 : d == 0.0;
    }

    Number toResult() {
      if (exact) {
        return l;
      }
      // Integral doubles inside the long range come back as longs (2^63 itself does not fit).
      if (d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63) {
        return (long) d;
      }
      return d;
    }
  }

  private static final class Parser {
    private final String s;
    private final int maxDepth;
    private int pos; // 0-based index of the next unread character
    private int depth;

    Parser(String s, int maxDepth) {
      this.s = s;
      this.maxDepth = maxDepth;
    }

    Num parseAll() {
      skipSpaces();
      if (pos >= s.length()) {
        throw new CalcException("empty expression", 1);
      }
      Num n = expr();
      skipSpaces();
      if (pos < s.length()) {
        throw new CalcException("unexpected '" + s.charAt(pos) + "' after a complete expression", pos + 1);
      }
      return n;
    }

    // expr := term (('+' | '-') term)*
    private Num expr() {
      Num left = term();
      while (true) {
        skipSpaces();
        if (peek('+') || peek('-')) {
          char op = s.charAt(pos);
          int at = pos + 1;
          pos++;
          Num right = term();
          left = op == '+' ? add(left, right, at) : subtract(left, right, at);
        } else {
          return left;
        }
      }
    }

    // term := unary (('*' | '/' | '%') unary)*
    private Num term() {
      Num left = unary();
      while (true) {
        skipSpaces();
        if (peek('*') || peek('/') || peek('%')) {
          char op = s.charAt(pos);
          int at = pos + 1;
          pos++;
          Num right = unary();
          left = switch (op) {
            case '*' -> multiply(left, right, at);
            case '/' -> divide(left, right, at);
            default -> remainder(left, right, at);
          };
        } else {
          return left;
        }
      }
    }

    // unary := ('+' | '-') unary | power
    private Num unary() {
      skipSpaces();
      if (peek('+') || peek('-')) {
        char op = s.charAt(pos);
        int at = pos + 1;
        pos++;
        enter(at);
        Num n = unary();
        depth--;
        return op == '+' ? n : negate(n, at);
      }
      return power();
    }

    // power := primary ('^' unary)?   right-associative through unary -> power
    private Num power() {
      Num base = primary();
      skipSpaces();
      if (peek('^')) {
        int at = pos + 1;
        pos++;
        enter(at);
        Num exponent = unary();
        depth--;
        return pow(base, exponent, at);
      }
      return base;
    }

    // primary := number | '(' expr ')'
    private Num primary() {
      skipSpaces();
      if (pos >= s.length()) {
        throw new CalcException("expected a number or '(' but the expression ended", pos + 1);
      }
      char c = s.charAt(pos);
      if (c == '(') {
        int open = pos + 1;
        pos++;
        enter(open);
        Num n = expr();
        depth--;
        skipSpaces();
        if (!peek(')')) {
          if (pos >= s.length()) {
            throw new CalcException("unclosed '(' (opened at position " + open + "); expected ')'", pos + 1);
          }
          throw new CalcException("expected ')' but found '" + s.charAt(pos) + "'", pos + 1);
        }
        pos++;
        return n;
      }
      if (isDigit(c) || c == '.') {
        return number();
      }
      throw new CalcException("expected a number or '(' but found '" + c + "'", pos + 1);
    }

    private Num number() {
      int start = pos;
      boolean integral = true;
      int intDigits = digits();
      int fracDigits = 0;
      if (peek('.')) {
        integral = false;
        pos++;
        fracDigits = digits();
      }
      if (intDigits == 0 && fracDigits == 0) {
        throw new CalcException("a number needs at least one digit", start + 1);
      }
      if (peek('e') || peek('E')) {
        integral = false;
        int ePos = pos + 1;
        pos++;
        if (peek('+') || peek('-')) {
          pos++;
        }
        int expDigits = digits();
        if (expDigits == 0) {
          throw new CalcException("exponent needs digits", ePos);
        }
        if (expDigits > MAX_EXPONENT_DIGITS) {
          throw new CalcException("exponent has more than " + MAX_EXPONENT_DIGITS + " digits", ePos);
        }
      }
      if (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '.')) {
        throw new CalcException("unexpected '" + s.charAt(pos) + "' in a number", pos + 1);
      }
      String text = s.substring(start, pos);
      if (integral) {
        try {
          return Num.of(Long.parseLong(text));
        } catch (NumberFormatException tooBig) {
          // beyond the long range: carried on as a double
        }
      }
      return Num.of(Double.parseDouble(text), start + 1);
    }

    private int digits() {
      int n = 0;
      while (pos < s.length() && isDigit(s.charAt(pos))) {
        pos++;
        n++;
      }
      return n;
    }

    private void enter(int at) {
      if (++depth > maxDepth) {
        throw new CalcException("expression nests deeper than " + maxDepth + " levels", at);
      }
    }

    private boolean peek(char c) {
      return pos < s.length() && s.charAt(pos) == c;
    }

    private void skipSpaces() {
      while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t' || s.charAt(pos) == '\n'
          || s.charAt(pos) == '\r')) {
        pos++;
      }
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }
  }

  // ------------------------------------------------------------------ arithmetic

  private static Num add(Num a, Num b, int at) {
    if (a.exact() && b.exact()) {
      long r = a.l() + b.l();
      if (((a.l() ^ r) & (b.l() ^ r)) >= 0) {
        return Num.of(r);
      }
    }
    return Num.of(a.asDouble() + b.asDouble(), at);
  }

  private static Num subtract(Num a, Num b, int at) {
    if (a.exact() && b.exact()) {
      long r = a.l() - b.l();
      if (((a.l() ^ b.l()) & (a.l() ^ r)) >= 0) {
        return Num.of(r);
      }
    }
    return Num.of(a.asDouble() - b.asDouble(), at);
  }

  private static Num multiply(Num a, Num b, int at) {
    if (a.exact() && b.exact()) {
      long hi = Math.multiplyHigh(a.l(), b.l());
      long lo = a.l() * b.l();
      if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
        return Num.of(lo);
      }
    }
    return Num.of(a.asDouble() * b.asDouble(), at);
  }

  private static Num divide(Num a, Num b, int at) {
    if (b.isZero()) {
      throw new CalcException("division by zero", at);
    }
    if (a.exact() && b.exact() && b.l() != -1 && a.l() % b.l() == 0) {
      return Num.of(a.l() / b.l());
    }
    return Num.of(a.asDouble() / b.asDouble(), at);
  }

  private static Num remainder(Num a, Num b, int at) {
    if (b.isZero()) {
      throw new CalcException("division by zero (remainder)", at);
    }
    if (a.exact() && b.exact()) {
      return Num.of(b.l() == -1 ? 0 : a.l() % b.l());
    }
    return Num.of(a.asDouble() % b.asDouble(), at);
  }

  private static Num negate(Num n, int at) {
    if (n.exact() && n.l() != Long.MIN_VALUE) {
      return Num.of(-n.l());
    }
    return Num.of(-n.asDouble(), at);
  }

  private static Num pow(Num base, Num exp, int at) {
    if (base.exact() && exp.exact() && exp.l() >= 0) {
      Num exact = exactPow(base.l(), exp.l());
      if (exact != null) {
        return exact;
      }
    }
    if (base.isZero() && exp.asDouble() < 0) {
      throw new CalcException("division by zero (zero to a negative power)", at);
    }
    double r = Math.pow(base.asDouble(), exp.asDouble());
    if (Double.isNaN(r)) {
      throw new CalcException("power is not a real number", at);
    }
    return Num.of(r, at);
  }

  /** Square-and-multiply with overflow checks; null when the result leaves the long range. */
  private static Num exactPow(long base, long exp) {
    long result = 1;
    long b = base;
    long e = exp;
    while (e > 0) {
      if ((e & 1) == 1) {
        long hi = Math.multiplyHigh(result, b);
        long lo = result * b;
        if (!((hi == 0 && lo >= 0) || (hi == -1 && lo < 0))) {
          return null;
        }
        result = lo;
      }
      e >>= 1;
      if (e > 0) {
        long hi = Math.multiplyHigh(b, b);
        long lo = b * b;
        if (!((hi == 0 && lo >= 0) || (hi == -1 && lo < 0))) {
          return null; // |b| > 1 here, so the result would overflow too
        }
        b = lo;
      }
    }
    return Num.of(result);
  }
}
