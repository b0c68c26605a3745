import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Tern persistent-mode bootstrap for Java (JDK 17, no third-party libraries).
 *
 * <pre>java -cp tern-bootstrap.jar TernBootstrap package.Class::method</pre>
 *
 * Loads the handler once from /code (the directory itself plus every jar in /code and /code/lib, on one
 * URLClassLoader), then serves Tern's line protocol (docs/persistent-mode.md): one JSON request per stdin line,
 * one JSON answer per stdout line, one call at a time. The method (static, or on one instance made with the public
 * no-argument constructor) takes the event as Object / Map / List / String / a number / boolean / a POJO or record
 * (filled from the JSON by setters, fields or the canonical constructor) / InputStream, and optionally a context:
 * a Map&lt;String,Object&gt;, or any interface (such as AWS's com.amazonaws.services.lambda.runtime.Context), answered by
 * a proxy. handleRequest(InputStream, OutputStream, Context) (Lambda's RequestStreamHandler) works too. The result is
 * written as JSON (maps, collections, arrays, strings, numbers, booleans, records and getters of plain objects).
 * The user's System.out goes to stderr: stdout belongs to the protocol.
 */
public final class TernBootstrap {
    private static final String CODE_DIR = "/code";

    public static void main(String[] args) throws Exception {
        OutputStream protocolOut = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        BufferedReader protocolIn = new BufferedReader(
                new InputStreamReader(new FileInputStream(FileDescriptor.in), StandardCharsets.UTF_8), 1 << 16);
        System.setOut(System.err);
        System.setIn(new ByteArrayInputStream(new byte[0]));

        String name = args.length > 0 ? args[0] : System.getenv("TERN_HANDLER");
        Handler handler;
        try {
            handler = Handler.load(name == null ? "" : name);
        } catch (Throwable t) {
            t = unwrap(t);
            t.printStackTrace();
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("type", t.getClass().getName());
            error.put("message", String.valueOf(t.getMessage()));
            Map<String, Object> ready = new LinkedHashMap<>();
            ready.put("ready", false);
            ready.put("error", error);
            send(protocolOut, Json.write(ready));
            System.exit(1);
            return;
        }
        send(protocolOut, "{\"ready\":true}");

        String line;
        while ((line = protocolIn.readLine()) != null) {
            if (line.isBlank()) continue;
            Object requestId = null;
            String answer;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> request = (Map<String, Object>) Json.parse(line);
                requestId = request.get("requestId");
                @SuppressWarnings("unchecked")
                Map<String, Object> context = request.get("context") instanceof Map
                        ? (Map<String, Object>) request.get("context") : new LinkedHashMap<>();
                String output = handler.invoke(request.get("event"), new CallContext(context));
                answer = "{\"requestId\":" + Json.write(requestId) + ",\"output\":" + output + "}";
            } catch (Throwable t) {
                t = unwrap(t);
                t.printStackTrace();
                Map<String, Object> error = new LinkedHashMap<>();
                error.put("type", t.getClass().getName());
                error.put("message", String.valueOf(t.getMessage()));
                error.put("stack", stackOf(t));
                error.put("stackTrace", userFrames(t));
                answer = "{\"requestId\":" + Json.write(requestId) + ",\"error\":" + Json.write(error) + "}";
            }
            send(protocolOut, answer);
        }
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof InvocationTargetException || t instanceof ExceptionInInitializerError) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The exception's frames down to the handler (this bootstrap's and the reflection frames that called it are left
     * out), then each cause with its frames. No "Type: message" first line: the agent puts that first itself.
     */
    private static String stackOf(Throwable t) {
        StringBuilder text = new StringBuilder();
        for (String frame : userFrames(t)) text.append("\tat ").append(frame).append('\n');
        IdentityHashMap<Throwable, Boolean> seen = new IdentityHashMap<>();
        seen.put(t, true);
        for (Throwable cause = t.getCause(); cause != null && seen.put(cause, true) == null; cause = cause.getCause()) {
            text.append("Caused by: ").append(cause).append('\n');
            for (String frame : userFrames(cause)) text.append("\tat ").append(frame).append('\n');
        }
        return text.toString();
    }

    /** Lambda's stackTrace: one "Class.method(File.java:line)" string per frame of the user's code. */
    private static List<String> userFrames(Throwable t) {
        List<String> frames = new ArrayList<>();
        for (StackTraceElement frame : t.getStackTrace()) {
            String cls = frame.getClassName();
            if (cls.startsWith("TernBootstrap") || cls.startsWith("jdk.internal.reflect.")
                    || cls.equals("java.lang.reflect.Method")) break;
            frames.add(frame.toString());
        }
        return frames;
    }

    /** One call's context, from the request line. */
    static final class CallContext {
        final String requestId, functionName, functionVersion, traceId;
        final int memoryLimitMb;
        final long deadlineMs;

        CallContext(Map<String, Object> c) {
            requestId = str(c.get("requestId"), "");
            functionName = str(c.get("functionName"), System.getenv("TERN_FUNCTION_NAME"));
            functionVersion = str(c.get("functionVersion"), System.getenv("TERN_FUNCTION_VERSION"));
            traceId = str(c.get("traceId"), null);
            memoryLimitMb = c.get("memoryLimitMb") instanceof Number ? ((Number) c.get("memoryLimitMb")).intValue() : 0;
            deadlineMs = c.get("deadlineMs") instanceof Number ? ((Number) c.get("deadlineMs")).longValue() : 0;
        }

        private static String str(Object o, String fallback) {
            return o == null ? fallback : o.toString();
        }

        int remainingMillis() {
            return (int) Math.max(0, Math.min(Integer.MAX_VALUE, deadlineMs - System.currentTimeMillis()));
        }

        /** Named as the getters of Lambda's Context, without "get". */
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("awsRequestId", requestId);
            m.put("functionName", functionName);
            m.put("functionVersion", functionVersion);
            m.put("invokedFunctionArn", "arn:tern:function:" + functionName + ":" + functionVersion);
            m.put("memoryLimitInMB", memoryLimitMb);
            String group = System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
            String stream = System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
            m.put("logGroupName", group != null ? group : "/tern/function/" + functionName);
            m.put("logStreamName", stream != null ? stream : LocalDate.now().format(DateTimeFormatter.ofPattern("yyyy/MM/dd"))
                    + "/[" + functionVersion + "]" + ProcessHandle.current().pid());
            m.put("traceId", traceId);
            m.put("deadlineMs", deadlineMs);
            m.put("remainingTimeInMillis", remainingMillis());
            return m;
        }

        /** A context interface the handler declares: getters answered by name, getLogger() logs to stderr. */
        Object proxy(Class<?> contract, boolean logger) {
            Map<String, Object> values = toMap();
            InvocationHandler answer = (self, method, args) -> {
                String name = method.getName();
                if (method.getDeclaringClass() == Object.class) {
                    switch (name) {
                        case "toString": return "TernContext" + values;
                        case "hashCode": return System.identityHashCode(self);
                        case "equals": return self == args[0];
                        default: return null;
                    }
                }
                Class<?> returns = method.getReturnType();
                if (logger || name.startsWith("log")) {
                    if (args != null && args.length > 0) {
                        Object message = args[0];
                        System.err.println(message instanceof byte[]
                                ? new String((byte[]) message, StandardCharsets.UTF_8) : String.valueOf(message));
                    }
                    return defaultOf(returns);
                }
                if (name.equals("getRemainingTimeInMillis")) return remainingMillis();
                if (name.equals("getLogger") && returns.isInterface()) return proxy(returns, true);
                if (name.startsWith("get") && name.length() > 3) {
                    String key = Character.toLowerCase(name.charAt(3)) + name.substring(4);
                    Object value = values.get(key);
                    if (value != null) return Convert.to(value, returns);
                }
                return defaultOf(returns);
            };
            return Proxy.newProxyInstance(contract.getClassLoader(), new Class<?>[] {contract}, answer);
        }

        private static Object defaultOf(Class<?> type) {
            if (!type.isPrimitive() || type == void.class) return null;
            if (type == boolean.class) return false;
            if (type == char.class) return '\0';
            return Convert.to(0, type);
        }
    }

    /** The handler method and how to call it. */
    static final class Handler {
        private final Method method;
        private final Object target;
        private final boolean streaming;

        private Handler(Method method, Object target) {
            this.method = method;
            this.target = target;
            Class<?>[] p = method.getParameterTypes();
            this.streaming = p.length >= 2 && InputStream.class.isAssignableFrom(p[0]) && OutputStream.class.isAssignableFrom(p[1]);
        }

        static Handler load(String name) throws Exception {
            String[] parts = name.split("::", -1);
            if (parts.length > 2 || parts[0].isBlank()) {
                throw new IllegalArgumentException("handler '" + name + "' must look like package.Class::method");
            }
            String className = parts[0];
            String methodName = parts.length == 2 && !parts[1].isBlank() ? parts[1] : "handleRequest";

            List<URL> urls = new ArrayList<>();
            urls.add(new File(CODE_DIR).toURI().toURL());
            for (String dir : new String[] {CODE_DIR, CODE_DIR + "/lib"}) {
                File[] jars = new File(dir).listFiles((d, n) -> n.endsWith(".jar"));
                if (jars == null) continue;
                Arrays.sort(jars, Comparator.comparing(File::getName));
                for (File jar : jars) urls.add(jar.toURI().toURL());
            }
            ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), TernBootstrap.class.getClassLoader());
            Thread.currentThread().setContextClassLoader(loader);
            Class<?> type;
            try {
                type = Class.forName(className, true, loader);
            } catch (ClassNotFoundException e) {
                throw new ClassNotFoundException("class " + className + " is not in " + CODE_DIR + " or its jars", e);
            }

            Method best = null;
            for (Method m : type.getMethods()) {
                if (!m.getName().equals(methodName) || m.getParameterCount() > 3 || m.isSynthetic()) continue;
                if (m.getParameterCount() == 3 && !InputStream.class.isAssignableFrom(m.getParameterTypes()[0])) continue;
                if (best == null || rank(m) > rank(best)) best = m;
            }
            if (best == null) {
                throw new NoSuchMethodException(className + " has no public method '" + methodName + "' taking at most two parameters");
            }
            Object target = Modifier.isStatic(best.getModifiers()) ? null : type.getDeclaredConstructor().newInstance();
            return new Handler(best, target);
        }

        /** Prefer more parameters and, among RequestHandler's bridge twins, the specific (non-Object) event type. */
        private static int rank(Method m) {
            int score = m.getParameterCount() * 10;
            if (m.isBridge()) score -= 5;
            if (m.getParameterCount() > 0 && m.getParameterTypes()[0] != Object.class) score += 1;
            return score;
        }

        /** Runs one call; returns the output as JSON text. */
        String invoke(Object event, CallContext context) throws Exception {
            Type[] types = method.getGenericParameterTypes();
            Object[] args = new Object[types.length];
            if (streaming) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                args[0] = new ByteArrayInputStream(Json.write(event).getBytes(StandardCharsets.UTF_8));
                args[1] = out;
                if (args.length > 2) args[2] = contextFor(types[2], context);
                method.invoke(target, args);
                String text = out.toString(StandardCharsets.UTF_8);
                try {
                    Json.parse(text);
                    return text.isBlank() ? "null" : text.strip();
                } catch (IllegalArgumentException notJson) {
                    return Json.write(text);
                }
            }
            if (args.length > 0) args[0] = Convert.toType(event, types[0]);
            if (args.length > 1) args[1] = contextFor(types[1], context);
            return Json.write(method.invoke(target, args));
        }

        private static Object contextFor(Type type, CallContext context) {
            Class<?> raw = Convert.raw(type);
            if (raw.isAssignableFrom(LinkedHashMap.class)) return context.toMap();
            if (raw.isInterface()) return context.proxy(raw, false);
            return Convert.toType(context.toMap(), type);
        }
    }

    /** JSON values (Map, List, String, Long/Double/BigInteger/BigDecimal, Boolean, null) to Java types. */
    static final class Convert {
        static Class<?> raw(Type type) {
            if (type instanceof Class) return (Class<?>) type;
            if (type instanceof ParameterizedType) return (Class<?>) ((ParameterizedType) type).getRawType();
            return Object.class;
        }

        static Object to(Object value, Class<?> type) {
            return toType(value, type);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        static Object toType(Object value, Type type) {
            Class<?> raw = raw(type);
            if (value == null) return raw.isPrimitive() ? CallContext.defaultOf(raw) : null;
            if (raw == Object.class) return value;
            if (raw == String.class) return value instanceof String ? value : Json.write(value);
            if (raw == InputStream.class) return new ByteArrayInputStream(Json.write(value).getBytes(StandardCharsets.UTF_8));
            if (value instanceof Number) {
                Number n = (Number) value;
                if (raw == int.class || raw == Integer.class) return n.intValue();
                if (raw == long.class || raw == Long.class) return n.longValue();
                if (raw == double.class || raw == Double.class) return n.doubleValue();
                if (raw == float.class || raw == Float.class) return n.floatValue();
                if (raw == short.class || raw == Short.class) return n.shortValue();
                if (raw == byte.class || raw == Byte.class) return n.byteValue();
                if (raw == BigDecimal.class) return new BigDecimal(n.toString());
                if (raw == BigInteger.class) return new BigDecimal(n.toString()).toBigInteger();
                if (raw == Number.class) return n;
            }
            if ((raw == boolean.class || raw == Boolean.class) && value instanceof Boolean) return value;
            if ((raw == char.class || raw == Character.class) && value instanceof String && !((String) value).isEmpty()) {
                return ((String) value).charAt(0);
            }
            if (raw.isEnum() && value instanceof String) return Enum.valueOf((Class<Enum>) raw, (String) value);
            if (raw.isInstance(value) && !(type instanceof ParameterizedType)) return value;
            if (value instanceof List) {
                List<?> list = (List<?>) value;
                if (raw.isArray()) {
                    Object array = Array.newInstance(raw.getComponentType(), list.size());
                    for (int i = 0; i < list.size(); i++) Array.set(array, i, toType(list.get(i), raw.getComponentType()));
                    return array;
                }
                if (raw.isAssignableFrom(ArrayList.class)) {
                    Type item = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments()[0] : Object.class;
                    List<Object> out = new ArrayList<>();
                    for (Object o : list) out.add(toType(o, item));
                    return out;
                }
            }
            if (value instanceof Map) {
                Map<String, Object> map = (Map<String, Object>) value;
                if (raw.isAssignableFrom(LinkedHashMap.class)) {
                    Type item = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments()[1] : Object.class;
                    Map<String, Object> out = new LinkedHashMap<>();
                    for (Map.Entry<String, Object> e : map.entrySet()) out.put(e.getKey(), toType(e.getValue(), item));
                    return out;
                }
                return toObject(map, raw);
            }
            throw new IllegalArgumentException("cannot convert JSON " + Json.write(value) + " to " + type.getTypeName());
        }

        /** A record through its canonical constructor; any other class through its no-argument constructor, then
         * setX(..) setters or fields, matched by name (case-insensitively). Unknown JSON names are ignored. */
        private static Object toObject(Map<String, Object> map, Class<?> type) {
            try {
                if (type.isRecord()) {
                    RecordComponent[] parts = type.getRecordComponents();
                    Object[] values = new Object[parts.length];
                    Class<?>[] classes = new Class<?>[parts.length];
                    for (int i = 0; i < parts.length; i++) {
                        values[i] = toType(lookup(map, parts[i].getName()), parts[i].getGenericType());
                        classes[i] = parts[i].getType();
                    }
                    Constructor<?> ctor = type.getDeclaredConstructor(classes);
                    ctor.setAccessible(true);
                    return ctor.newInstance(values);
                }
                Constructor<?> ctor = type.getDeclaredConstructor();
                ctor.setAccessible(true);
                Object target = ctor.newInstance();
                for (Map.Entry<String, Object> e : map.entrySet()) set(target, e.getKey(), e.getValue());
                return target;
            } catch (ReflectiveOperationException e) {
                throw new IllegalArgumentException("cannot build " + type.getName() + " from the event: " + e, e);
            }
        }

        private static Object lookup(Map<String, Object> map, String name) {
            if (map.containsKey(name)) return map.get(name);
            for (Map.Entry<String, Object> e : map.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue();
            return null;
        }

        private static void set(Object target, String name, Object value) throws ReflectiveOperationException {
            String setter = "set" + name;
            for (Method m : target.getClass().getMethods()) {
                if (m.getParameterCount() == 1 && m.getName().equalsIgnoreCase(setter)) {
                    m.invoke(target, toType(value, m.getGenericParameterTypes()[0]));
                    return;
                }
            }
            for (Class<?> c = target.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers()) || !f.getName().equalsIgnoreCase(name)) continue;
                    f.setAccessible(true);
                    f.set(target, toType(value, f.getGenericType()));
                    return;
                }
            }
        }
    }

    /** A small, strict JSON reader and writer. */
    static final class Json {
        private final String text;
        private int at;

        private Json(String text) {
            this.text = text;
        }

        /** Objects become LinkedHashMap, arrays ArrayList, numbers Long (or BigInteger) or Double (or BigDecimal). */
        static Object parse(String text) {
            Json p = new Json(text);
            p.skipSpace();
            Object value = p.value(0);
            p.skipSpace();
            if (p.at != text.length()) throw p.error("unexpected text after the JSON value");
            return value;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("invalid JSON at offset " + at + ": " + what);
        }

        private void skipSpace() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
                at++;
            }
        }

        private Object value(int depth) {
            if (depth > 1000) throw error("nested too deeply");
            if (at >= text.length()) throw error("unexpected end");
            char c = text.charAt(at);
            switch (c) {
                case '{': return object(depth);
                case '[': return array(depth);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw error("unexpected character '" + c + "'");
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, at)) throw error("expected " + word);
            at += word.length();
            return value;
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            skipSpace();
            if (at < text.length() && text.charAt(at) == '}') {
                at++;
                return map;
            }
            while (true) {
                skipSpace();
                if (at >= text.length() || text.charAt(at) != '"') throw error("expected a property name");
                String key = string();
                skipSpace();
                if (at >= text.length() || text.charAt(at) != ':') throw error("expected ':'");
                at++;
                skipSpace();
                map.put(key, value(depth + 1));
                skipSpace();
                if (at >= text.length()) throw error("unexpected end");
                char c = text.charAt(at++);
                if (c == '}') return map;
                if (c != ',') throw error("expected ',' or '}'");
            }
        }

        private List<Object> array(int depth) {
            List<Object> list = new ArrayList<>();
            at++;
            skipSpace();
            if (at < text.length() && text.charAt(at) == ']') {
                at++;
                return list;
            }
            while (true) {
                skipSpace();
                list.add(value(depth + 1));
                skipSpace();
                if (at >= text.length()) throw error("unexpected end");
                char c = text.charAt(at++);
                if (c == ']') return list;
                if (c != ',') throw error("expected ',' or ']'");
            }
        }

        private String string() {
            StringBuilder out = new StringBuilder();
            at++;
            while (true) {
                if (at >= text.length()) throw error("unterminated string");
                char c = text.charAt(at++);
                if (c == '"') return out.toString();
                if (c < 0x20) throw error("control character in string");
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (at >= text.length()) throw error("unterminated escape");
                char e = text.charAt(at++);
                switch (e) {
                    case '"': out.append('"'); break;
                    case '\\': out.append('\\'); break;
                    case '/': out.append('/'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'n': out.append('\n'); break;
                    case 'r': out.append('\r'); break;
                    case 't': out.append('\t'); break;
                    case 'u':
                        if (at + 4 > text.length()) throw error("short \\u escape");
                        try {
                            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        } catch (NumberFormatException x) {
                            throw error("bad \\u escape");
                        }
                        at += 4;
                        break;
                    default: throw error("bad escape \\" + e);
                }
            }
        }

        private Number number() {
            int start = at;
            if (text.charAt(at) == '-') at++;
            boolean integral = true;
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c >= '0' && c <= '9') {
                    at++;
                } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                    integral = false;
                    at++;
                } else {
                    break;
                }
            }
            String n = text.substring(start, at);
            try {
                if (integral) {
                    BigInteger big = new BigInteger(n);
                    return big.bitLength() < 64 ? (Number) big.longValue() : big;
                }
                double d = Double.parseDouble(n);
                return Double.isInfinite(d) ? new BigDecimal(n) : d;
            } catch (NumberFormatException e) {
                throw error("bad number " + n);
            }
        }

        static String write(Object value) {
            StringBuilder out = new StringBuilder();
            write(value, out, new IdentityHashMap<>());
            return out.toString();
        }

        private static void write(Object v, StringBuilder out, IdentityHashMap<Object, Boolean> open) {
            if (v == null) {
                out.append("null");
            } else if (v instanceof String || v instanceof Character || v instanceof Enum) {
                quote(v instanceof Enum ? ((Enum<?>) v).name() : v.toString(), out);
            } else if (v instanceof Boolean) {
                out.append(v);
            } else if (v instanceof Double || v instanceof Float) {
                double d = ((Number) v).doubleValue();
                if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("cannot write " + d + " as JSON");
                out.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d));
            } else if (v instanceof Number) {
                out.append(v);
            } else if (v instanceof Optional) {
                write(((Optional<?>) v).orElse(null), out, open);
            } else {
                if (open.put(v, Boolean.TRUE) != null) throw new IllegalArgumentException("cannot write a cyclic object as JSON");
                if (v instanceof Map) {
                    out.append('{');
                    boolean first = true;
                    for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                        if (!first) out.append(',');
                        first = false;
                        quote(String.valueOf(e.getKey()), out);
                        out.append(':');
                        write(e.getValue(), out, open);
                    }
                    out.append('}');
                } else if (v instanceof Collection || v instanceof Iterable) {
                    out.append('[');
                    boolean first = true;
                    for (Object o : (Iterable<?>) v) {
                        if (!first) out.append(',');
                        first = false;
                        write(o, out, open);
                    }
                    out.append(']');
                } else if (v.getClass().isArray()) {
                    out.append('[');
                    for (int i = 0; i < Array.getLength(v); i++) {
                        if (i > 0) out.append(',');
                        write(Array.get(v, i), out, open);
                    }
                    out.append(']');
                } else {
                    write(properties(v), out, open);
                }
                open.remove(v);
            }
        }

        /** A record's components, or an object's public getters (getX/isX) and public fields. */
        private static Map<String, Object> properties(Object v) {
            Map<String, Object> map = new LinkedHashMap<>();
            Class<?> type = v.getClass();
            try {
                if (type.isRecord()) {
                    for (RecordComponent c : type.getRecordComponents()) {
                        Method accessor = c.getAccessor();
                        accessor.setAccessible(true);
                        map.put(c.getName(), accessor.invoke(v));
                    }
                    return map;
                }
                for (Method m : type.getMethods()) {
                    if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.getDeclaringClass() == Object.class) continue;
                    String name = m.getName();
                    String property = name.startsWith("get") && name.length() > 3 ? name.substring(3)
                            : name.startsWith("is") && name.length() > 2 && m.getReturnType() == boolean.class ? name.substring(2) : null;
                    if (property == null) continue;
                    try {
                        m.setAccessible(true); // a public getter on a non-public class
                    } catch (RuntimeException ignored) {
                        // not opened to us: invoke may still work
                    }
                    map.put(Character.toLowerCase(property.charAt(0)) + property.substring(1), m.invoke(v));
                }
                for (Field f : type.getFields()) {
                    if (!Modifier.isStatic(f.getModifiers())) map.putIfAbsent(f.getName(), f.get(v));
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalArgumentException("cannot write " + type.getName() + " as JSON: " + e, e);
            }
            return map;
        }

        private static void quote(String s, StringBuilder out) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': out.append("\\\""); break;
                    case '\\': out.append("\\\\"); break;
                    case '\n': out.append("\\n"); break;
                    case '\r': out.append("\\r"); break;
                    case '\t': out.append("\\t"); break;
                    case '\b': out.append("\\b"); break;
                    case '\f': out.append("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029') out.append(String.format("\\u%04x", (int) c));
                        else out.append(c);
                }
            }
            out.append('"');
        }
    }
}
