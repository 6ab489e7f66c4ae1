package io.sgstreams.tools.builtin;

import io.sgstreams.tools.Args;
import io.sgstreams.tools.BadArgumentsException;
import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * {@code clock}: the current time as {@code {"epoch_ms": long, "iso": "…Z"}}; with
 * {@code {"zone": "Europe/Paris"}} (an IANA id) also {@code "local"} (ISO-8601 with offset) and
 * {@code "zone"}. An unknown zone is a {@code bad_arguments} error.
 */
public final class ClockTool implements Tool {
  @Override
  public String name() {
    return "clock";
  }

  @Override
  public String description() {
    return "Current date and time: epoch milliseconds and ISO-8601 UTC; optionally local time in an IANA time zone.";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object",
        "properties", Map.of("zone", Map.of("type", "string", "description", "IANA time zone id, e.g. Europe/Paris")),
        "required", List.of());
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.fromSupplier(() -> {
      String zoneId = Args.optionalString(args, "zone");
      ZoneId zone = null;
      if (zoneId != null) {
        try {
          zone = ZoneId.of(zoneId);
        } catch (DateTimeException e) {
          throw new BadArgumentsException("unknown time zone '" + zoneId + "' (expected an IANA id such as Europe/Paris)");
        }
      }
      Instant now = ctx.clock().instant();
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("epoch_ms", now.toEpochMilli());
      out.put("iso", DateTimeFormatter.ISO_INSTANT.format(now));
      if (zone != null) {
        out.put("zone", zone.getId());
        out.put("local", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now.atZone(zone)));
      }
      return out;
    });
  }
}
