package io.claudememory.claude;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Estimates tokens as characters / 4, multiplied per model by a factor learnt from the usage Claude reports: after
 * each answer, {@link #observe} compares the request's estimate with its real input tokens and moves the factor a
 * third of the way, within [0.5, 4]. Thread-safe; the factors live as long as the node.
 */
public final class TokenEstimator {
  private final Map<String, Double> factors = new ConcurrentHashMap<>();

  public int estimate(String model, long chars) {
    return (int) Math.ceil(chars / 4.0 * factors.getOrDefault(model, 1.0));
  }

  public void observe(String model, long requestChars, long actualInputTokens) {
    if (requestChars < 400 || actualInputTokens <= 0) {
      return; // too small to say anything about the ratio
    }
    double measured = actualInputTokens / (requestChars / 4.0);
    factors.merge(model, clamp(measured), (old, now) -> clamp(old + (now - old) / 3));
  }

  public double factor(String model) {
    return factors.getOrDefault(model, 1.0);
  }

  private static double clamp(double factor) {
    return Math.max(0.5, Math.min(4.0, factor));
  }
}
