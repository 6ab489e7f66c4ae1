package io.sgstreams.core.envelope;

import static io.sgstreams.core.envelope.WireKeys.ARGS;
import static io.sgstreams.core.envelope.WireKeys.ATTACHMENTS;
import static io.sgstreams.core.envelope.WireKeys.CHANNEL_ID;
import static io.sgstreams.core.envelope.WireKeys.TENANT_ID;
import static io.sgstreams.core.envelope.WireKeys.SEQ;
import static io.sgstreams.core.envelope.WireKeys.ATTEMPT;
import static io.sgstreams.core.envelope.WireKeys.CONTENT;
import static io.sgstreams.core.envelope.WireKeys.CORRELATION_ID;
import static io.sgstreams.core.envelope.WireKeys.DEADLINE;
import static io.sgstreams.core.envelope.WireKeys.ENQUEUED_AT;
import static io.sgstreams.core.envelope.WireKeys.ERROR;
import static io.sgstreams.core.envelope.WireKeys.HEADERS;
import static io.sgstreams.core.envelope.WireKeys.ID;
import static io.sgstreams.core.envelope.WireKeys.IN_REPLY_TO;
import static io.sgstreams.core.envelope.WireKeys.KIND;
import static io.sgstreams.core.envelope.WireKeys.MESSAGE_KEY;
import static io.sgstreams.core.envelope.WireKeys.METADATA;
import static io.sgstreams.core.envelope.WireKeys.OK;
import static io.sgstreams.core.envelope.WireKeys.PLATFORM;
import static io.sgstreams.core.envelope.WireKeys.REPLY_TO;
import static io.sgstreams.core.envelope.WireKeys.RESULT;
import static io.sgstreams.core.envelope.WireKeys.TOOL;
import static io.sgstreams.core.envelope.WireKeys.TYPE;
import static io.sgstreams.core.envelope.WireKeys.USER_ID;
import static io.sgstreams.core.envelope.WireKeys.V;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;

/**
 * Encodes envelopes with the msgpack-core streaming packer. Key order is fixed: the common keys
 * ({@code v, id, kind, correlation_id, platform, channel_id, enqueued_at, deadline, headers}), then the kind's
 * keys in the order of docs/envelope.md, then unknown keys in their original order. Null optional values and
 * empty optional maps/lists are left out.
 */
final class EnvelopeWriter {
    private static final byte[][] KIND_BYTES = new byte[Kind.values().length][];

    static {
        for (Kind k : Kind.values()) {
            KIND_BYTES[k.ordinal()] = k.wire().getBytes(StandardCharsets.UTF_8);
        }
    }

    private EnvelopeWriter() {
    }

    /**
     * Per thread: the buffer an envelope is packed into, and its packer. An encode allocates its
     * result (one exact copy) and the UTF-8 bytes of its strings, nothing else: a fresh buffer per
     * call cost a third of what encoding allocated, and the copy out of it another third (JMH
     * {@code EnvelopeCodecBenchmark}, docs/performance.md).
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /** A buffer grown past this by a large envelope is not kept for the next one. */
    private static final int KEEP_AT_MOST = 64 * 1024;

    private static final class Scratch {
        final ByteArrayOutput out = new ByteArrayOutput(4096);
        final MessagePacker packer = MessagePack.DEFAULT_PACKER_CONFIG.newPacker(out);
        boolean busy;
    }

    static byte[] encode(Envelope e, int maxBytes) {
        Scratch s = SCRATCH.get();
        if (s.busy) {
            return encodeFresh(e, maxBytes); // not reached today (nothing encodes while encoding), but safe
        }
        s.busy = true;
        boolean packed = false;
        try {
            s.out.reset();
            write(s.packer, e);
            s.packer.flush();
            packed = true;
            int size = s.out.size();
            if (size > maxBytes) {
                throw new EnvelopeTooLargeException(size, maxBytes);
            }
            return s.out.copy();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex); // not reachable: the output is in memory
        } finally {
            s.busy = false;
            if (!packed || s.out.capacity() > KEEP_AT_MOST) {
                // a failed pack may leave the packer mid-buffer, a large envelope a large array: start afresh
                SCRATCH.set(new Scratch());
            }
        }
    }

    /** A fresh buffer and packer, no size limit: what the per-thread path must match byte for byte (tests). */
    static byte[] encodeFreshForTest(Envelope e) {
        return encodeFresh(e, Integer.MAX_VALUE);
    }

    private static byte[] encodeFresh(Envelope e, int maxBytes) {
        ByteArrayOutput out = new ByteArrayOutput(estimate(e));
        MessagePacker p = MessagePack.DEFAULT_PACKER_CONFIG.newPacker(out);
        try {
            write(p, e);
            p.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex); // not reachable: the output is in memory
        }
        if (out.size() > maxBytes) {
            throw new EnvelopeTooLargeException(out.size(), maxBytes);
        }
        return out.toByteArray();
    }

    /** Rough upper bound of the encoded size for the common case (ASCII text, few small free-form values). */
    private static int estimate(Envelope e) {
        long n = 160 + e.id().length() + e.correlationId().length();
        if (e instanceof InboundEnvelope) {
            InboundEnvelope in = (InboundEnvelope) e;
            n += in.content().length() + in.userId().length() + attachmentsSize(in.attachments())
                    + (in.metadata().isEmpty() ? 0 : 128);
        } else if (e instanceof OutboundEnvelope) {
            OutboundEnvelope out = (OutboundEnvelope) e;
            n += out.content().length() + out.messageKey().length() + out.inReplyTo().length()
                    + attachmentsSize(out.attachments());
        } else {
            n += 128;
        }
        n += e.headers().size() * 96L + e.extra().size() * 32L;
        return (int) Math.min(n, 1 << 24);
    }

    private static long attachmentsSize(List<Attachment> as) {
        long n = 0;
        for (Attachment a : as) {
            n += a.data().length + a.name().length() + a.mime().length() + 32;
        }
        return n;
    }

    private static void writeError(MessagePacker p, ToolError error) throws IOException {
        key(p, ERROR);
        p.packMapHeader(2);
        p.packString("code");
        p.packString(error.code());
        p.packString("message");
        p.packString(error.message());
    }

    private static void key(MessagePacker p, int key) throws IOException {
        byte[] b = WireKeys.BYTES[key];
        p.packRawStringHeader(b.length);
        p.writePayload(b);
    }

    private static void write(MessagePacker p, Envelope e) throws IOException {
        Kind kind = e.kind();
        int n = 5 + (e.platform() != null ? 1 : 0) + (e.channelId() != null ? 1 : 0)
                + (e.tenantId() != null ? 1 : 0) + (e.deadline() != null ? 1 : 0) + (e.headers().isEmpty() ? 0 : 1) + e.extra().size();
        if (e instanceof InboundEnvelope) {
            InboundEnvelope in = (InboundEnvelope) e;
            n += 2 + (in.attachments().isEmpty() ? 0 : 1) + (in.replyTo() != null ? 1 : 0)
                    + (in.metadata().isEmpty() ? 0 : 1);
        } else if (e instanceof OutboundEnvelope) {
            OutboundEnvelope out = (OutboundEnvelope) e;
            n += 4 + (out.attachments().isEmpty() ? 0 : 1) + (out.seq() != null ? 1 : 0) + (out.attempt() != null ? 1 : 0)
                    + (out.error() != null ? 1 : 0);
        } else if (e instanceof ToolRequest) {
            n += 3;
        } else {
            ToolReply r = (ToolReply) e;
            n += 1 + (r.ok() || r.result() != null ? 1 : 0) + (r.error() != null ? 1 : 0);
        }
        p.packMapHeader(n);

        key(p, V);
        p.packInt(e.v());
        key(p, ID);
        p.packString(e.id());
        key(p, KIND);
        byte[] kb = KIND_BYTES[kind.ordinal()];
        p.packRawStringHeader(kb.length);
        p.writePayload(kb);
        key(p, CORRELATION_ID);
        p.packString(e.correlationId());
        if (e.platform() != null) {
            key(p, PLATFORM);
            p.packString(e.platform());
        }
        if (e.channelId() != null) {
            key(p, CHANNEL_ID);
            p.packString(e.channelId());
        }
        if (e.tenantId() != null) {
            key(p, TENANT_ID);
            p.packString(e.tenantId());
        }
        key(p, ENQUEUED_AT);
        p.packLong(e.enqueuedAt());
        if (e.deadline() != null) {
            key(p, DEADLINE);
            p.packLong(e.deadline());
        }
        if (!e.headers().isEmpty()) {
            key(p, HEADERS);
            p.packMapHeader(e.headers().size());
            for (Map.Entry<String, String> h : e.headers().entrySet()) {
                p.packString(h.getKey());
                p.packString(h.getValue());
            }
        }

        if (e instanceof InboundEnvelope) {
            InboundEnvelope in = (InboundEnvelope) e;
            key(p, USER_ID);
            p.packString(in.userId());
            key(p, CONTENT);
            p.packString(in.content());
            writeAttachments(p, in.attachments());
            if (in.replyTo() != null) {
                key(p, REPLY_TO);
                p.packString(in.replyTo());
            }
            if (!in.metadata().isEmpty()) {
                key(p, METADATA);
                FreeForm.pack(p, in.metadata());
            }
        } else if (e instanceof OutboundEnvelope) {
            OutboundEnvelope out = (OutboundEnvelope) e;
            key(p, TYPE);
            p.packString(out.type());
            key(p, IN_REPLY_TO);
            p.packString(out.inReplyTo());
            key(p, CONTENT);
            p.packString(out.content());
            writeAttachments(p, out.attachments());
            key(p, MESSAGE_KEY);
            p.packString(out.messageKey());
            if (out.seq() != null) {
                key(p, SEQ);
                p.packInt(out.seq());
            }
            if (out.attempt() != null) {
                key(p, ATTEMPT);
                p.packInt(out.attempt());
            }
            if (out.error() != null) {
                writeError(p, out.error());
            }
        } else if (e instanceof ToolRequest) {
            ToolRequest req = (ToolRequest) e;
            key(p, TOOL);
            p.packString(req.tool());
            key(p, ARGS);
            FreeForm.pack(p, req.args());
            key(p, REPLY_TO);
            p.packString(req.replyTo());
        } else {
            ToolReply r = (ToolReply) e;
            key(p, OK);
            p.packBoolean(r.ok());
            if (r.ok() || r.result() != null) {
                key(p, RESULT);
                FreeForm.pack(p, r.result());
            }
            if (r.error() != null) {
                writeError(p, r.error());
            }
        }

        Map<String, ?> extra = e.extra();
        if (!extra.isEmpty()) {
            // The records normalise extra to ExtraFields.
            ExtraFields ef = (ExtraFields) extra;
            for (int i = 0, c = ef.count(); i < c; i++) {
                p.packString(ef.keyAt(i));
                byte[] raw = ef.rawAt(i);
                if (raw != null) {
                    p.writePayload(raw);
                } else {
                    p.packValue(ef.valueAt(i));
                }
            }
        }
    }

    private static void writeAttachments(MessagePacker p, List<Attachment> as) throws IOException {
        if (as.isEmpty()) {
            return;
        }
        key(p, ATTACHMENTS);
        p.packArrayHeader(as.size());
        for (Attachment a : as) {
            p.packMapHeader(3);
            p.packString("name");
            p.packString(a.name());
            p.packString("mime");
            p.packString(a.mime());
            p.packString("data");
            p.packBinaryHeader(a.data().length);
            p.writePayload(a.data());
        }
    }
}
