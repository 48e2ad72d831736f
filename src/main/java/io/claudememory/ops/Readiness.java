package io.claudememory.ops;

/**
 * Whether this node should receive traffic: not while starting, yes once serving, not once draining for shutdown.
 * Load balancers read it at {@code /api/v1/health/readiness}.
 */
public final class Readiness {
  /** The node's phase. */
  public enum State { STARTING, READY, DRAINING }

  private volatile State state = State.STARTING;

  public State state() {
    return state;
  }

  public void ready() {
    state = State.READY;
  }

  public void draining() {
    state = State.DRAINING;
  }
}
