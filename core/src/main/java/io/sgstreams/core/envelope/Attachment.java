package io.sgstreams.core.envelope;

import java.util.Arrays;

/**
 * A binary attachment: wire form {@code {name: str, mime: str, data: bin}}. {@code data} is not copied (the
 * record does not defend against callers mutating the array they passed in or got back). Equality, hash code and
 * {@code toString} use the content of {@code data}.
 */
public record Attachment(String name, String mime, byte[] data) {

    public Attachment {
        Checks.notNull(name, "attachment name");
        Checks.notNull(mime, "attachment mime");
        Checks.notNull(data, "attachment data");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Attachment
                && name.equals(((Attachment) o).name)
                && mime.equals(((Attachment) o).mime)
                && Arrays.equals(data, ((Attachment) o).data);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + mime.hashCode()) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Attachment[name=" + name + ", mime=" + mime + ", data=<" + data.length + " bytes>]";
    }
}
