package io.sgstreams.tools.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgstreams.tools.BadArgumentsException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArgsSchemaTest {
  private static final Map<String, Object> SCHEMA = Map.of("type", "object",
      "properties", Map.of(
          "text", Map.of("type", "string"),
          "n", Map.of("type", "integer"),
          "x", Map.of("type", List.of("number", "null")),
          "tags", Map.of("type", "array")),
      "required", List.of("text"));

  @Test
  void acceptsMatchingArguments() {
    assertDoesNotThrow(() -> ArgsSchema.check(SCHEMA, Map.of("text", "a", "n", 3L, "x", 1.5, "tags", List.of())));
    assertDoesNotThrow(() -> ArgsSchema.check(SCHEMA, Map.of("text", "a", "extra", true)));
    assertDoesNotThrow(() -> ArgsSchema.check(null, Map.of("anything", 1L)));
    assertDoesNotThrow(() -> ArgsSchema.check(Map.of("required", "not-a-list"), Map.of()));
  }

  @Test
  void reportsTheFirstProblem() {
    assertEquals("missing required argument 'text'",
        assertThrows(BadArgumentsException.class, () -> ArgsSchema.check(SCHEMA, Map.of())).getMessage());
    assertEquals("argument 'n' must be an integer, got number",
        assertThrows(BadArgumentsException.class, () -> ArgsSchema.check(SCHEMA, Map.of("text", "a", "n", 1.5)))
            .getMessage());
    assertEquals("argument 'x' must be one of number, null, got string",
        assertThrows(BadArgumentsException.class, () -> ArgsSchema.check(SCHEMA, Map.of("text", "a", "x", "1")))
            .getMessage());
    assertEquals("argument 'text' must be a string, got array",
        assertThrows(BadArgumentsException.class, () -> ArgsSchema.check(SCHEMA, Map.of("text", List.of())))
            .getMessage());
  }

  @Test
  void closedSchemasRejectUnknownArguments() {
    Map<String, Object> closed = Map.of("type", "object", "properties", Map.of("a", Map.of("type", "string")),
        "additionalProperties", false);
    assertEquals("unknown argument 'b'; expected a",
        assertThrows(BadArgumentsException.class, () -> ArgsSchema.check(closed, Map.of("b", 1L))).getMessage());
  }
}
