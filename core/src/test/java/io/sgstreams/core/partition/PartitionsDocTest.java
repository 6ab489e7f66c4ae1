package io.sgstreams.core.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/wire-contract.md (Partitions) states what the code computes, so other languages can trust it. */
class PartitionsDocTest {
  private static final Path DOC = Path.of("..", "docs", "wire-contract.md");

  @Test
  void theVectorsInTheDocAreTheCodes() throws IOException {
    String doc = section();
    Partitioner p12 = new Partitioner(12);
    assertRow(doc, "| `default` | `web` | `c-42` |", Partitioner.hash("default", "web", "c-42"),
        p12.partitionOf("default", "web", "c-42"));
    assertRow(doc, "| `acme` | `webhook` | `room/7` |", Partitioner.hash("acme", "webhook", "room/7"),
        p12.partitionOf("acme", "webhook", "room/7"));
    assertRow(doc, "| (empty: none) | `web` | (empty) |", Partitioner.hash("", "web", ""),
        p12.partitionOf("", "web", ""));
  }

  @Test
  void theTagTableInTheDocIsTheCodes() throws IOException {
    String doc = section();
    List<String> tags = SlotTags.tags(12);
    assertEquals(tags, cells(doc, "| tag |").stream().map(c -> c.replace("`", "")).toList());
    assertEquals(tags.stream().map(t -> String.valueOf(SlotTags.slot("{" + t + "}"))).toList(),
        cells(doc, "| slot |"));
  }

  private static void assertRow(String doc, String start, long crc, int partition) {
    String row = doc.lines().filter(l -> l.startsWith(start)).findFirst().orElseThrow(() -> new AssertionError(start));
    assertTrue(row.endsWith(String.format("| `0x%08x` | %d |", crc, partition)), row);
  }

  private static List<String> cells(String doc, String start) {
    String row = doc.lines().filter(l -> l.startsWith(start)).findFirst().orElseThrow(() -> new AssertionError(start));
    String[] parts = row.split("\\|");
    return Arrays.stream(parts).skip(2).map(String::trim).toList();
  }

  private static String section() throws IOException {
    String doc = Files.readString(DOC);
    int from = doc.indexOf("## Partitions");
    assertTrue(from >= 0, "docs/wire-contract.md has a Partitions section");
    int to = doc.indexOf("\n## ", from + 1);
    return doc.substring(from, to < 0 ? doc.length() : to);
  }
}
