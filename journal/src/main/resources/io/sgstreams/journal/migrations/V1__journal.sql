-- The journal: one row per stream entry (every envelope but streamed deltas and progress events),
-- keyed by (stream, entry id) so a redelivered entry never duplicates a row.
CREATE TABLE sg_journal (
  stream          text        NOT NULL,
  entry_id        text        NOT NULL,
  entry_ms        bigint      NOT NULL,
  entry_seq       bigint      NOT NULL,
  kind            text        NOT NULL,   -- inbound, outbound, tool_request, tool_reply, undecodable
  envelope_id     text,
  correlation_id  text,
  tenant_id       text        NOT NULL,
  platform        text,
  channel_id      text,
  user_id         text,
  type            text,                   -- outbound: message, error, ...
  in_reply_to     text,
  content         text,
  enqueued_at     timestamptz,
  replay_of       text,                   -- the dead letter (DLQ entry id) this entry re-adds
  journaled_at    timestamptz NOT NULL DEFAULT now(),
  data            bytea       NOT NULL,   -- the entry's data field: the MessagePack envelope as written
  PRIMARY KEY (stream, entry_id)
);

-- a conversation in time order, read either way (history API, conversation memory, resume)
CREATE INDEX sg_journal_conversation
  ON sg_journal (tenant_id, platform, channel_id, entry_ms, entry_seq, stream);
CREATE INDEX sg_journal_envelope ON sg_journal (envelope_id);
CREATE INDEX sg_journal_in_reply_to ON sg_journal (in_reply_to) WHERE in_reply_to IS NOT NULL;

-- Dead letters, one row per DLQ entry, with what became of them.
CREATE TABLE sg_dead_letters (
  stream           text        NOT NULL,  -- the DLQ stream
  entry_id         text        NOT NULL,
  entry_ms         bigint      NOT NULL,
  entry_seq        bigint      NOT NULL,
  original_stream  text        NOT NULL,
  original_id      text        NOT NULL,
  consumer_group   text,
  consumer         text,
  deliveries       bigint,
  error            text,
  dead_at          timestamptz,
  trace_id         text,
  kind             text,
  envelope_id      text,
  tenant_id        text,
  platform         text,
  channel_id       text,
  data             bytea,                 -- the original entry's data (absent when it was trimmed)
  journaled_at     timestamptz NOT NULL DEFAULT now(),
  replay_claimed_at timestamptz,          -- sg dlq replay: taken (so no second replay runs)
  replayed_at      timestamptz,           -- ... and re-added
  replayed_by      text,
  replay_entry_id  text,                  -- the new entry on original_stream
  purged_at        timestamptz,           -- sg dlq purge: removed from the DLQ stream
  PRIMARY KEY (stream, entry_id)
);
CREATE INDEX sg_dead_letters_time ON sg_dead_letters (entry_ms, entry_seq);
CREATE INDEX sg_dead_letters_original ON sg_dead_letters (original_stream, original_id);
