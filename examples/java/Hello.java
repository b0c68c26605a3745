import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tern "hello" example. The JDK has no JSON parser, so "name" is extracted with a regex and
 * copied verbatim (still JSON-escaped) into the output. Limitation: this is not a real parser,
 * so a "name"/"fail" key inside a nested object or inside a string value may be matched too.
 */
public class Hello {
    private static final Pattern NAME = Pattern.compile("\"name\"\\s*:\\s*\"((?:[^\"\\\\]++|\\\\.)*+)\"");
    private static final Pattern FAIL = Pattern.compile("\"fail\"\\s*:\\s*true\\b");

    public static void main(String[] args) {
        try {
            String event = Files.readString(Path.of(args[0]));
            if (FAIL.matcher(event).find()) {
                throw new IllegalStateException("requested failure");
            }
            Matcher m = NAME.matcher(event);
            String name = m.find() ? m.group(1) : "world";
            System.out.println("{\"message\":\"Hello, " + name + "!\",\"runtime\":\"java\"}");
        } catch (Exception e) {
            System.err.println("boom: " + e.getMessage());
            System.exit(1);
        }
    }
}
