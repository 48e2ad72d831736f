package io.claudememory.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WebhookReceiver;
import io.claudememory.support.WsClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API1:2023. Ann and Bob each own an object of every kind ({@link OwnedObjects}); Bob then calls every
 * operation of the contract that takes an id ({@link IdOperations}) with Ann's ids — in the path, in a filter, in a
 * body — one slot at a time (his own ids in the others) and all at once. Each call must be refused as if the object did
 * not exist (404; 403 only where the contract reserves the route for admins or a trail for its owner) and show nothing
 * of Ann's. Then each owner makes the same calls with their own ids, which must be accepted: that proves each refusal
 * was about whose object it was, not a malformed request.
 */
@ExtendWith(SecuritySuite.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("API1:2023 Broken Object Level Authorization: no one reaches another user's objects by id")
class Api01ObjectLevelAuthorizationTest {
  private static final String BASE = "/api/v1";
  /** Refusals other than 404, each with its reason in the contract. */
  private static final Map<String, Set<Integer>> REFUSALS = Map.of(
      "GET /audit", Set.of(403)); // another user's trail: "Only admins can read another user's trail"
  static final IdOperations OPERATIONS = new IdOperations();
  static TestServer server;
  static ApiClient api;
  static WebhookReceiver receiver;
  static OwnedObjects ann;
  static OwnedObjects bob;

  @BeforeAll
  static void start() {
    server = SecuritySuite.shared().server();
    api = SecuritySuite.shared().client();
    receiver = new WebhookReceiver();
    TestUser invitee = Users.register(api);
    ann = OwnedObjects.create(server, api, receiver, Users.register(api), invitee);
    bob = OwnedObjects.create(server, api, receiver, Users.register(api), invitee);
  }

  @AfterAll
  static void stop() {
    receiver.close();
  }

  @Test
  @Order(1)
  @DisplayName("every operation of the contract that takes an id has an object to fill it with")
  void everyIdHasAFixture() {
    assertTrue(OPERATIONS.calls().size() >= 30, "the contract's id-taking operations were found: "
        + OPERATIONS.calls().stream().map(IdOperations.Call::name).toList());
    assertEquals(List.of(), OPERATIONS.unfilled(), "operations the object-level check cannot fill");
  }

  @Test
  @Order(2)
  @DisplayName("lists, filters and search show a user none of another user's objects")
  void listsShowNothingOfOthers() {
    List<String> failures = new ArrayList<>();
    for (IdOperations.Call list : OPERATIONS.listings()) {
      String uri = list.uri(BASE, Map.of(), ann.ids()); // a search is for words ann wrote
      Reply reply = api.get(uri, bob.token());
      if (reply.status() != 200) {
        failures.add("GET " + uri + " answered " + reply.status() + ": " + reply.body());
      }
      leaked(reply, Set.of()).ifPresent(what -> failures.add("GET " + uri + " shows " + what));
    }
    assertTrue(OPERATIONS.listings().size() >= 8, "lists found: " + OPERATIONS.listings());
    assertEquals(List.of(), failures);
  }

  @Test
  @Order(3)
  @DisplayName("another user's conversation cannot be joined, written to, read or cancelled over the WebSocket")
  void socketRoomsAreOwnersOnly() {
    String room = ann.ids().get("conversation");
    try (WsClient annSocket = WsClient.connect(server.app().vertx(), server.port(), ann.token());
         WsClient bobSocket = WsClient.connect(server.app().vertx(), server.port(), bob.token())) {
      annSocket.expect("ready");
      bobSocket.expect("ready");
      annSocket.answer(annSocket.send("join_room", new JsonObject().put("room_id", room)));
      JsonObject since = new JsonObject().put("room_id", room).put("since_seq", 0);
      for (String type : List.of("join_room", "send_message", "typing", "mark_read", "cancel", "leave_room")) {
        JsonObject data = since.copy().put("content", "from bob").put("client_id", "b1").put("seq", 1)
            .put("is_typing", true);
        JsonObject answer = bobSocket.answer(bobSocket.send(type, data));
        assertEquals("error", answer.getString("type"), type + " in another user's room: " + answer);
        assertTrue(Set.of("room_not_found", "not_joined").contains(answer.getJsonObject("data").getString("code")),
            type + " is refused as if the room did not exist: " + answer);
        assertTrue(!answer.encode().contains(ann.marker()), type + " shows nothing of the room: " + answer);
      }
      // ann's own frame after bob's attempts: anything bob caused would have reached her before its answer
      annSocket.answer(annSocket.send("mark_read", new JsonObject().put("room_id", room).put("seq", 1)));
      List<String> seen = annSocket.seen().stream().map(f -> f.getString("type")).toList();
      assertTrue(seen.stream().noneMatch(Set.of("message.created", "typing")::contains),
          "nothing bob sent reached the room: " + seen);
      assertTrue(bobSocket.seen().stream().noneMatch(f -> f.encode().contains(ann.marker())),
          "bob's socket received nothing of ann's room: " + bobSocket.seen());
    }
  }

  @Test
  @Order(4)
  @DisplayName("every operation with another user's id in its path, a filter or its body is refused exactly as for an "
      + "id that does not exist, and the owners' own calls pass")
  void idsOfOthersAreNotFound() {
    assertEquals(List.of(), OPERATIONS.unfilled(), "operations the object-level check cannot fill");
    List<String> failures = new ArrayList<>();
    int attempts = 0;
    for (IdOperations.Call call : OPERATIONS.calls()) {
      for (Map<String, String> values : variants(call)) {
        attempts++;
        Reply reply = call(call, bob, values, failures);
        Reply unknown = call(call, bob, unknown(call, values), failures);
        if (reply != null && unknown != null) {
          refusedAsUnknown(call, values, reply, unknown).ifPresent(failures::add);
          leaked(reply, Set.copyOf(values.values())).ifPresent(what -> failures.add(call.name()
              + " by another user shows " + what));
        }
      }
    }
    assertTrue(attempts > OPERATIONS.calls().size(), "every slot was tried on its own: " + attempts);
    controls(failures);
    assertEquals(List.of(), failures, () -> failures.size() + " calls went wrong:\n" + String.join("\n", failures));
  }

  /**
   * What is wrong with Bob's refusal, if anything: it must be the answer to an id nobody has (same status, same
   * detail and field errors, so it tells nothing), a client error, and for an id in the path a 404 (403 for admin
   * routes and the few {@link #REFUSALS} the contract gives).
   */
  private static java.util.Optional<String> refusedAsUnknown(IdOperations.Call call, Map<String, String> values,
      Reply reply, Reply unknown) {
    String what = call.name() + " by another user with " + foreign(call, values);
    boolean inPath = call.slots().stream().anyMatch(slot -> slot.in().equals("path")
        && values.get(slot.name()).equals(ann.ids().get(slot.fixture())));
    Set<Integer> allowed = call.admin() ? Set.of(403) : REFUSALS.getOrDefault(call.name(),
        inPath ? Set.of(404) : Set.of(400, 404, 422));
    if (!allowed.contains(reply.status())) {
      return java.util.Optional.of(what + " answered " + reply.status() + " (expected " + allowed + "): "
          + reply.body());
    }
    JsonObject problem = reply.json();
    JsonObject expected = unknown.json();
    if (unknown.status() != reply.status() || !problem.getString("detail").equals(expected.getString("detail"))
        || !java.util.Objects.equals(problem.getValue("errors"), expected.getValue("errors"))) {
      return java.util.Optional.of(what + " is told apart from an id that does not exist: " + reply.body()
          + " versus " + unknown.body());
    }
    return java.util.Optional.empty();
  }

  /**
   * The owners' own calls, after every refusal was checked: each must pass (2xx), or meet a conflict or a gone
   * resource (409, 410: found, but in a state that forbids it). Activating a database (which copies the account's
   * data over, then switches to it) runs once everything else that changes nothing is done, and is waited for;
   * deleting comes last, deepest path first, projects after what they hold.
   */
  private static void controls(List<String> failures) {
    List<IdOperations.Call> owned = OPERATIONS.calls().stream().filter(call -> !call.admin()).toList();
    List<Reply> switches = new ArrayList<>();
    List<OwnedObjects> switchedBy = new ArrayList<>();
    for (IdOperations.Call call : owned.stream().sorted(Comparator.comparingInt(
        Api01ObjectLevelAuthorizationTest::controlRank)).toList()) {
      if (controlRank(call) >= 500 && !switches.isEmpty()) {
        for (int i = 0; i < switches.size(); i++) {
          Jobs.awaitFinished(api, switchedBy.get(i).token(), switches.get(i).data().getString("id"), 60);
        }
        switches.clear();
      }
      for (OwnedObjects owner : List.of(ann, bob)) {
        Map<String, String> values = new HashMap<>();
        call.slots().forEach(slot -> values.put(slot.name(), owner.ids().get(slot.fixture())));
        Reply reply = call(call, owner, values, failures);
        if (reply == null) {
          continue;
        }
        if (reply.status() / 100 != 2 && reply.status() != 409 && reply.status() != 410) {
          failures.add(call.name() + " by the owner answered " + reply.status() + ", so the refusal above proves "
              + "nothing; make the generated call valid (IdOperations.BODIES): " + reply.body());
        } else if (call.operationId().equals("activateDatabase") && reply.status() == 202) {
          switches.add(reply);
          switchedBy.add(owner);
        }
      }
    }
  }

  private static int controlRank(IdOperations.Call call) {
    if (call.operationId().equals("activateDatabase")) {
      return 100;
    }
    if (!call.method().equals("DELETE")) {
      return 0;
    }
    int depth = call.path().split("/").length;
    return 1000 - depth * 10 + (call.path().equals("/projects/{id}") ? 5 : 0);
  }

  /** {@code values} with each of Ann's ids replaced by an id nobody has. */
  private static Map<String, String> unknown(IdOperations.Call call, Map<String, String> values) {
    Map<String, String> unknown = new HashMap<>(values);
    call.slots().stream().filter(slot -> values.get(slot.name()).equals(ann.ids().get(slot.fixture())))
        .forEach(slot -> unknown.put(slot.name(), java.util.UUID.randomUUID().toString()));
    return unknown;
  }

  /** Bob's values: each slot alone holding Ann's id (his own in the others), then all of them together. */
  private static List<Map<String, String>> variants(IdOperations.Call call) {
    List<Map<String, String>> variants = new ArrayList<>();
    for (IdOperations.Slot foreign : call.slots()) {
      Map<String, String> values = new HashMap<>();
      call.slots().forEach(slot -> values.put(slot.name(), (slot == foreign ? ann : bob).ids().get(slot.fixture())));
      variants.add(values);
    }
    if (call.slots().size() > 1) {
      Map<String, String> all = new HashMap<>();
      call.slots().forEach(slot -> all.put(slot.name(), ann.ids().get(slot.fixture())));
      variants.add(all);
    }
    return variants;
  }

  private static String foreign(IdOperations.Call call, Map<String, String> values) {
    return call.slots().stream().filter(slot -> values.get(slot.name()).equals(ann.ids().get(slot.fixture())))
        .map(slot -> "ann's " + slot.fixture() + " as " + slot).collect(Collectors.joining(", "));
  }

  /** Makes the call as {@code caller}; a reply the contract does not describe is a failure, and null. */
  private static Reply call(IdOperations.Call call, OwnedObjects caller, Map<String, String> values,
      List<String> failures) {
    String body = call.body(values, caller.ids());
    try {
      return api.send(HttpMethod.valueOf(call.method()), call.uri(BASE, values, caller.ids()), caller.token(),
          body == null ? null : Buffer.buffer(body));
    } catch (AssertionError offContract) {
      failures.add(call.name() + ": " + offContract.getMessage());
      return null;
    }
  }

  /** What of Ann's a reply to Bob shows, other than the ids he sent himself. */
  private static java.util.Optional<String> leaked(Reply reply, Set<String> sent) {
    String body = reply.body();
    if (body.contains(ann.marker())) {
      return java.util.Optional.of("ann's names or texts");
    }
    if (body.contains(ann.user().email())) {
      return java.util.Optional.of("ann's email");
    }
    return ann.ids().entrySet().stream()
        .filter(id -> id.getValue().length() == 36 && !sent.contains(id.getValue()) && body.contains(id.getValue()))
        .map(id -> "ann's " + id.getKey() + " id").findFirst();
  }
}
