package io.sgstreams.worker.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.worker.internal.Json;

/** The built-in tools offered to the model as OpenAI {@code tools} function definitions. */
final class ToolSchemas {
  private ToolSchemas() {}

  static ArrayNode builtIns() {
    ArrayNode tools = Json.array();
    ObjectNode echoParams = object();
    echoParams.putObject("properties").putObject("text").put("type", "string").put("description", "text to echo back");
    echoParams.put("additionalProperties", true);
    tools.add(function("echo", "Returns its arguments unchanged.", echoParams));

    tools.add(function("clock", "The current time: epoch_ms and an ISO-8601 timestamp (UTC).", object()));

    ObjectNode calcParams = object();
    calcParams.putObject("properties").putObject("expr").put("type", "string")
        .put("description", "an arithmetic expression with + - * / ^ % and parentheses, e.g. 2*(3+4)");
    calcParams.putArray("required").add("expr");
    tools.add(function("calc", "Evaluates an arithmetic expression exactly and safely.", calcParams));
    return tools;
  }

  private static ObjectNode object() {
    ObjectNode o = Json.object();
    o.put("type", "object");
    o.putObject("properties");
    return o;
  }

  private static ObjectNode function(String name, String description, ObjectNode parameters) {
    ObjectNode t = Json.object();
    t.put("type", "function");
    ObjectNode f = t.putObject("function");
    f.put("name", name);
    f.put("description", description);
    f.set("parameters", parameters);
    return t;
  }
}
