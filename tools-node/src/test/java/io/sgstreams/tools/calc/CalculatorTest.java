package io.sgstreams.tools.calc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CalculatorTest {
  private final Calculator calc = new Calculator(1000);

  @Test
  void integralResultIsALong() {
    Number n = calc.evaluate("2*21");
    assertInstanceOf(Long.class, n);
    assertEquals(42L, n);
    assertEquals(2L, calc.evaluate("0.5*4"));
    assertEquals(0.5, calc.evaluate("1/2"));
    assertInstanceOf(Double.class, calc.evaluate("1/3"));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '=', value = {
      "1+2*3 = 7",
      "(1+2)*3 = 9",
      "10-4-3 = 3",           // left-assoc minus
      "100/10/5 = 2",         // left-assoc divide
      "2^3^2 = 512",          // right-assoc power
      "(2^3)^2 = 64",
      "-2^2 = -4",            // power binds tighter than unary minus
      "(-2)^2 = 4",
      "2^-1 = 0.5",
      "--3 = 3",
      "+-+3 = -3",
      "-(4-6) = 2",
      "7%3 = 1",
      "-7%3 = -1",            // truncated remainder
      "7.5%2 = 1.5",
      "2*3%4 = 2",            // same precedence, left to right
      "1.5+1.5 = 3",
      ".5*2 = 1",
      "3. + 1 = 4",
      "1e3 = 1000",
      "2.5E-1 = 0.25",
      "1e+2*2 = 200",
      " ( 1 +\t2 ) * 3 = 9",
      "9223372036854775807 = 9223372036854775807",
      "3^40 = 1.2157665459056929E19",   // beyond long: double
      "9223372036854775807+1 = 9.223372036854775807E18",
  })
  void evaluates(String expr, String expected) {
    Number n = calc.evaluate(expr.trim());
    if (expected.trim().matches("-?\\d+")) {
      assertEquals(Long.parseLong(expected.trim()), n, expr);
    } else {
      assertEquals(Double.parseDouble(expected.trim()), n.doubleValue(), 1e-12, expr);
    }
  }

  @Test
  void exactLongArithmeticKeepsPrecision() {
    // 2^53 + 1 is not representable as a double
    assertEquals(9007199254740993L, calc.evaluate("2^53+1"));
    assertEquals(Long.MIN_VALUE, calc.evaluate("-9223372036854775807-1"));
  }

  @ParameterizedTest(name = "{0} fails at {1}: {2}")
  @CsvSource(delimiter = '|', value = {
      "1/0|2|division by zero",
      "5%0|2|division by zero",
      "1/(2-2)|2|division by zero",
      "0^-1|2|division by zero",
      "10^400|3|overflow",
      "1e999|1|overflow",
      "(-8)^0.5|5|not a real number",
      "1+|3|ended",
      "(1+2|5|unclosed '(' (opened at position 1)",
      "1+2)|4|after a complete expression",
      "2 3|3|after a complete expression",
      "abc|1|expected a number",
      "2*x|3|expected a number",
      "1e|2|exponent needs digits",
      "1e1000|2|more than 3 digits",
      "1.2.3|4|in a number",
      "12a|3|in a number",
      ".|1|at least one digit",
      "*2|1|expected a number",
  })
  void rejectsWithPosition(String expr, int position, String problem) {
    CalcException e = assertThrows(CalcException.class, () -> calc.evaluate(expr));
    assertEquals(position, e.position(), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
    assertTrue(e.getMessage().endsWith("at position " + position), e.getMessage());
  }

  @Test
  void emptyAndNullAreRejected() {
    assertThrows(CalcException.class, () -> calc.evaluate(""));
    assertThrows(CalcException.class, () -> calc.evaluate("   "));
    assertThrows(CalcException.class, () -> calc.evaluate(null));
  }

  @Test
  void lengthIsBounded() {
    Calculator small = new Calculator(10);
    assertEquals(10L, small.evaluate("1+2+3+4"));
    CalcException e = assertThrows(CalcException.class, () -> small.evaluate("1+2+3+4+5+6"));
    assertTrue(e.getMessage().contains("limit is 10"), e.getMessage());
  }

  @Test
  void nestingIsBounded() {
    Calculator c = new Calculator(100_000, 64);
    assertEquals(1L, c.evaluate("(".repeat(64) + "1" + ")".repeat(64)));
    CalcException parens = assertThrows(CalcException.class,
        () -> c.evaluate("(".repeat(65) + "1" + ")".repeat(65)));
    assertEquals(65, parens.position());
    assertTrue(parens.getMessage().contains("deeper than 64"), parens.getMessage());
    assertThrows(CalcException.class, () -> c.evaluate("-".repeat(5000) + "1"));
    assertThrows(CalcException.class, () -> c.evaluate("2" + "^2".repeat(5000)));
  }

  @Test
  void hugePowersStayCheap() {
    assertEquals(1L, calc.evaluate("1^999999999999"));
    assertEquals(1L, calc.evaluate("(-1)^999999999998"));
    assertThrows(CalcException.class, () -> calc.evaluate("2^999999999999"));
  }
}
