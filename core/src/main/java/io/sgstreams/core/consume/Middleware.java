package io.sgstreams.core.consume;

/**
 * Wraps a handler. Chains are built once; the first middleware listed is the outermost
 * (e.g. {@code metrics, retry, timeout}: the timeout applies to each retry attempt).
 */
@FunctionalInterface
public interface Middleware {
  Handler wrap(Handler next);

  default Middleware andThen(Middleware inner) {
    return h -> wrap(inner.wrap(h));
  }

  static Handler chain(Handler handler, java.util.List<Middleware> middlewares) {
    Handler h = handler;
    for (int i = middlewares.size() - 1; i >= 0; i--) {
      h = middlewares.get(i).wrap(h);
    }
    return h;
  }
}
