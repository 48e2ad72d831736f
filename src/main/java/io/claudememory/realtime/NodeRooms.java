package io.claudememory.realtime;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Which room and user addresses have sockets on this node, counted across every event loop. The fan-out subscribes
 * to an address's Redis channel on its first socket and unsubscribes after its last. Thread-safe.
 */
final class NodeRooms {
  private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private volatile Consumer<String> onFirst = address -> {};
  private volatile Consumer<String> onLast = address -> {};
  private final AtomicInteger rooms = new AtomicInteger();

  void listen(Consumer<String> first, Consumer<String> last) {
    this.onFirst = first;
    this.onLast = last;
  }

  void acquire(String address) {
    boolean[] first = {false};
    counts.compute(address, (key, count) -> {
      if (count == null) {
        first[0] = true;
        return new AtomicInteger(1);
      }
      count.incrementAndGet();
      return count;
    });
    if (first[0]) {
      if (io.claudememory.platform.EventAddresses.isRoom(address)) {
        rooms.incrementAndGet();
      }
      onFirst.accept(address);
    }
  }

  void release(String address) {
    boolean[] last = {false};
    counts.computeIfPresent(address, (key, count) -> {
      if (count.decrementAndGet() == 0) {
        last[0] = true;
        return null;
      }
      return count;
    });
    if (last[0]) {
      if (io.claudememory.platform.EventAddresses.isRoom(address)) {
        rooms.decrementAndGet();
      }
      onLast.accept(address);
    }
  }

  /** Whether sockets are there now; listeners re-check this, since first/last notices may race. */
  boolean has(String address) {
    return counts.containsKey(address);
  }

  List<String> addresses() {
    return List.copyOf(counts.keySet());
  }

  int roomCount() {
    return rooms.get();
  }
}
