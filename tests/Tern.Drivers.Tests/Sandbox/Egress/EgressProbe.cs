using System.Text;

namespace Tern.Drivers.Tests.Sandbox.Egress;

/// <summary>A Python handler that tries each target of the event and reports what happened: "http 200 <body>" for an
/// http:// URL, "connected" for host:port, "resolved <addresses>" for a name; "refused: <error>" when it fails.</summary>
internal static class EgressProbe
{
    public static byte[] Code => Encoding.UTF8.GetBytes("""
        import json, socket, sys, urllib.request
        event = json.load(open(sys.argv[1]))
        out = {}
        for target in event.get("targets", []):
            try:
                if target.startswith("http://"):
                    with urllib.request.urlopen(target, timeout=5) as r:
                        out[target] = "http %d %s" % (r.status, r.read(200).decode(errors="replace"))
                elif target.startswith("dns:"):
                    infos = socket.getaddrinfo(target[4:], 80, socket.AF_INET, socket.SOCK_STREAM)
                    out[target] = "resolved " + ",".join(sorted({i[4][0] for i in infos}))
                else:
                    host, port = target.rsplit(":", 1)
                    socket.create_connection((host, int(port)), timeout=3).close()
                    out[target] = "connected"
            except Exception as e:
                out[target] = "refused: %s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        """);
}
