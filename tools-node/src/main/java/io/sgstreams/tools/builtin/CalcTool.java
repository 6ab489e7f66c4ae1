package io.sgstreams.tools.builtin;

import io.sgstreams.tools.Args;
import io.sgstreams.tools.BadArgumentsException;
import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import io.sgstreams.tools.calc.CalcException;
import io.sgstreams.tools.calc.Calculator;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * {@code calc}: evaluates {@code {"expr": "2*21"}} with the hand-written {@link Calculator}
 * (no scripting engine). The result is a number: a long when integral ({@code 42}), else a double.
 * Syntax errors, bounds and undefined results are {@code bad_arguments} with the position.
 */
public final class CalcTool implements Tool {
  private final Calculator calculator;

  public CalcTool(int maxExprChars) {
    this.calculator = new Calculator(maxExprChars);
  }

  @Override
  public String name() {
    return "calc";
  }

  @Override
  public String description() {
    return "Evaluates an arithmetic expression: numbers, + - * / % ^ (power), unary minus and parentheses.";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object",
        "properties", Map.of("expr", Map.of("type", "string",
            "description", "arithmetic expression, e.g. (1+2)*3^2", "maxLength", calculator.maxChars())),
        "required", List.of("expr"));
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    // Bounded input, so evaluating on the calling thread is cheap enough.
    return Mono.fromSupplier(() -> {
      String expr = Args.requireString(args, "expr");
      try {
        return calculator.evaluate(expr);
      } catch (CalcException e) {
        throw new BadArgumentsException("expr: " + e.getMessage(), e);
      }
    });
  }
}
