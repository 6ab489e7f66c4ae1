package io.sgstreams.gateway.auth;

import io.sgstreams.core.envelope.Envelope;

/**
 * Who is calling: the tenant whose conversations the caller may read and post into, and the
 * identity that rate limits and idempotency records are kept per ({@code key-<hash>} for an API
 * key, {@code addr-<hash>} for a remote address when authentication is off).
 *
 * @param keyId the id of the caller's stored key (for revocation and per-key limits), or null for
 *     a key from {@code SG_API_KEYS} and when authentication is off
 */
public record Caller(String tenant, String id, String keyId) {
  public Caller {
    if (tenant == null || tenant.isBlank() || id == null || id.isBlank()) {
      throw new IllegalArgumentException("a caller needs a tenant and an id");
    }
  }

  /** An unauthenticated caller (auth off: loopback only): tenant {@code default}, known by its address. */
  public static Caller anonymous(String addressHash) {
    return new Caller(Envelope.DEFAULT_TENANT, "addr-" + addressHash, null);
  }

  /** Whether a reply of {@code tenant} (null: an envelope without one, i.e. {@code default}) is this caller's. */
  public boolean owns(String replyTenant) {
    return tenant.equals(replyTenant == null ? Envelope.DEFAULT_TENANT : replyTenant);
  }
}
