using System.Buffers;
using System.Text;
using System.Text.Json;
using Tern.Json;

namespace Tern.Agent.Protocol.Tests;

/// <summary>The hand-written exec/resp codec must read and write exactly what the source-generated serializer does,
/// since other agents (and the docs) speak the plain JSON form.</summary>
public sealed class AgentFrameCodecTests
{
    private static readonly ExecMessage[] Execs =
    [
        new() { RequestId = "r1", Input = RawJson.Parse("""{"name":"x","n":[1,2.5,-3],"s":"é\"\\"}"""), TimeoutMs = 1234, TraceId = "t", TraceParent = "00-abc-def-01" },
        new() { RequestId = "r2", Input = RawJson.Parse("42"), TimeoutMs = 0 },
        new() { RequestId = "é", Input = RawJson.Parse("null"), TimeoutMs = 5 },
    ];

    private static readonly RespMessage[] Resps =
    [
        new() { RequestId = "r1", Status = "success", Output = RawJson.Parse("""{"a":[true,false,null]}"""), DurationMs = 1.5 },
        new() { RequestId = "r2", Status = "error", Error = new AgentError { Code = "HandlerFailed", Message = "boom\nline 2" }, DurationMs = 3, StderrTail = "err\n", StdoutTail = "out" },
        new() { RequestId = "r3", Status = "timeout" },
        new()
        {
            RequestId = "r4", Status = "error", DurationMs = 2,
            Error = new AgentError
            {
                Code = "HandlerFailed", Message = "KeyError: 'cube'\nTraceback", ErrorType = "KeyError", ErrorMessage = "'cube'",
                StackTrace = ["  File \"/code/lambda_function.py\", line 2, in lambda_handler\n    return event['cube']\n", "frame 2"],
            },
        },
        new() { RequestId = "r5", Status = "error", Error = new AgentError { Code = "HandlerFailed", Message = "m", ErrorType = "E", ErrorMessage = "", StackTrace = [] } },
    ];

    private static byte[] Encode(AgentMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        AgentFrameCodec.Encode(writer, message);
        return buffer.WrittenSpan.ToArray();
    }

    private static string Generated(AgentMessage message) => JsonSerializer.Serialize(message, AgentJsonContext.Default.AgentMessage);

    [Fact]
    public void Encode_ExecAndResp_ReadBackByTheGeneratedSerializerAsTheSameMessage()
    {
        foreach (var exec in Execs)
        {
            var read = Assert.IsType<ExecMessage>(JsonSerializer.Deserialize(Encode(exec), AgentJsonContext.Default.AgentMessage));
            Assert.Equal(Generated(exec), Generated(read));
        }
        foreach (var resp in Resps)
        {
            var read = Assert.IsType<RespMessage>(JsonSerializer.Deserialize(Encode(resp), AgentJsonContext.Default.AgentMessage));
            Assert.Equal(Generated(resp), Generated(read));
        }
    }

    [Fact]
    public void Decode_WhatTheGeneratedSerializerWrote_GivesTheSameMessage()
    {
        foreach (AgentMessage message in Execs.Cast<AgentMessage>().Concat(Resps))
        {
            var bytes = Encoding.UTF8.GetBytes(Generated(message));
            Assert.Equal(Generated(message), Generated(AgentFrameCodec.Decode(bytes)));
        }
    }

    [Fact]
    public void Decode_RawValuesKeepTheirBytes_AndANullOutputIsNoOutput()
    {
        var exec = Assert.IsType<ExecMessage>(AgentFrameCodec.Decode("""{"type":"exec","requestId":"a","input":{ "k" : 1 },"timeoutMs":1}"""u8));
        Assert.Equal("""{ "k" : 1 }""", exec.Input.ToString());
        var resp = Assert.IsType<RespMessage>(AgentFrameCodec.Decode("""{"type":"resp","requestId":"a","status":"success","output":null}"""u8));
        Assert.Null(resp.Output);
    }

    [Theory]
    [InlineData("""{"requestId":"a","status":"error","type":"resp"}""")]
    [InlineData("""{"status":"error","requestId":"a","extra":{"x":[1]},"type":"resp"}""")]
    [InlineData("""{"\u0074ype":"resp","requestId":"a","status":"error"}""")] // an escaped name: the general serializer reads it
    public void Decode_TypeAnywhereOrEscaped_IsStillAResp(string json)
    {
        var resp = Assert.IsType<RespMessage>(AgentFrameCodec.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.Equal("a", resp.RequestId);
        Assert.Equal("error", resp.Status);
    }

    [Theory]
    [InlineData("""{"type":"init","runtime":"python","handler":"h","mode":"persistent"}""", typeof(InitMessage))]
    [InlineData("""{"type":"ping","requestId":"p"}""", typeof(PingMessage))]
    [InlineData("""{"type":"stop"}""", typeof(StopMessage))]
    public void Decode_OtherMessages_GoThroughTheGeneratedSerializer(string json, Type expected) =>
        Assert.IsType(expected, AgentFrameCodec.Decode(Encoding.UTF8.GetBytes(json)));

    /// <summary>The API accepts an event (and a handler may return an output) as deep as JsonText.MaxDepth; inside a
    /// frame it sits one level further down, and a frame that could not be read killed the worker.</summary>
    [Fact]
    public void Decode_InputAndOutputAsDeepAsTheApiAccepts_AreRead()
    {
        var deep = string.Concat(Enumerable.Repeat("[", JsonText.MaxDepth)) + string.Concat(Enumerable.Repeat("]", JsonText.MaxDepth));
        var exec = Assert.IsType<ExecMessage>(AgentFrameCodec.Decode(Encoding.UTF8.GetBytes($$"""{"type":"exec","requestId":"a","input":{{deep}},"timeoutMs":1}""")));
        Assert.Equal(deep, exec.Input.ToString());
        var resp = Assert.IsType<RespMessage>(AgentFrameCodec.Decode(Encoding.UTF8.GetBytes($$"""{"type":"resp","requestId":"a","status":"success","output":{{deep}}}""")));
        Assert.Equal(deep, resp.Output!.Value.ToString());
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("")]
    [InlineData("""{"type":"resp","requestId":""")]
    public void Decode_NotAMessage_Throws(string json) =>
        Assert.ThrowsAny<Exception>(() => AgentFrameCodec.Decode(Encoding.UTF8.GetBytes(json)));
}
