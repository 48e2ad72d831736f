package io.claudememory.platform.ratelimit;

import io.vertx.core.Future;
import java.util.List;

/**
 * Where buckets live. {@link #take} is atomic across the buckets given: a token is taken from every one of them, or
 * (when any is empty) from none.
 */
public interface BucketStore {

  Future<Decision> take(List<Bucket> buckets);

  default void close() {}
}
