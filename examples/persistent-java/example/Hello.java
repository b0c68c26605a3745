package example;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tern persistent-mode handler for Java: example.Hello::handleRequest. One instance serves every call a worker
 * gets (one at a time), so its fields live across calls. The event arrives as a Map (JSON objects are Maps,
 * arrays Lists); the context is a Map named as Lambda's Context getters (awsRequestId, functionName, ...).
 * Whatever is returned is written back as JSON.
 */
public class Hello {
    private int calls;

    public Map<String, Object> handleRequest(Map<String, Object> event, Map<String, Object> context) {
        if (Boolean.TRUE.equals(event.get("fail"))) {
            throw new IllegalStateException("boom: requested failure");
        }
        Object name = event.getOrDefault("name", "world");
        System.out.println("greeting " + name); // goes to stderr: stdout belongs to the protocol
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("message", "Hello, " + name + "!");
        result.put("runtime", "java");
        result.put("requestId", context.get("awsRequestId"));
        result.put("memoryLimitInMB", context.get("memoryLimitInMB"));
        result.put("calls", ++calls);
        return result;
    }
}
