package io.sgstreams.core.envelope;

/**
 * The {@code error} of a failed {@link ToolReply}, and of an outbound {@code error} reply: wire form
 * {@code {code: str, message: str}}.
 */
public record ToolError(String code, String message) {

    /**
     * @param code non-empty, machine-readable (e.g. {@code "timeout"}, {@code "bad_args"})
     * @param message human-readable, may be empty
     */
    public ToolError {
        Checks.notEmpty(code, "error code");
        Checks.notNull(message, "error message");
    }
}
