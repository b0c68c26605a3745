using Tern.Agent.Protocol.LineProtocol;
using System.Text;

namespace Tern.Agent.Tests;

public sealed class AnswerLineTests
{
    private static (bool Ok, string? Id, string Output, string Error, bool? Ready, string? Problem) Parse(string line)
    {
        var ok = AnswerLine.TryParse(Encoding.UTF8.GetBytes(line), out var answer, out var problem);
        return (ok, answer.RequestId, Encoding.UTF8.GetString(answer.Output), Encoding.UTF8.GetString(answer.Error), answer.Ready, problem);
    }

    [Fact]
    public void TryParse_AnAnswer_KeepsTheOutputBytes()
    {
        var a = Parse("""{"requestId":"r\u00e9","output":{ "x" : [1] }}""");
        Assert.True(a.Ok);
        Assert.Equal("ré", a.Id);
        Assert.Equal("""{ "x" : [1] }""", a.Output);
        Assert.Equal("", a.Error);
    }

    [Fact]
    public void TryParse_AnError_AndAReadyLine()
    {
        Assert.Equal("""{"type":"KeyError","message":"'k'"}""", Parse("""{"requestId":"r","error":{"type":"KeyError","message":"'k'"}}""").Error);
        Assert.Equal("", Parse("""{"requestId":"r","error":null,"output":1}""").Error);
        Assert.True(Parse("""{"ready":true}""").Ready);
        Assert.False(Parse("""{"ready":false,"error":"no"}""").Ready);
    }

    [Theory]
    [InlineData("hello", "not valid JSON")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("""{"requestId":"r"} {}""", "")]
    public void TryParse_NotAProtocolLine_SaysWhy(string line, string why)
    {
        var a = Parse(line);
        Assert.False(a.Ok);
        Assert.Contains(why, a.Problem);
    }

    [Fact]
    public void ToResp_NullOutput_IsNoOutput_AndAnErrorIsHandlerFailedWithTypeMessageAndStack()
    {
        Assert.True(AnswerLine.TryParse("""{"requestId":"r","output":null}"""u8, out var nothing, out _));
        Assert.Null(nothing.ToResp().Output);
        Assert.True(AnswerLine.TryParse("""{"requestId":"r","error":{"type":"ValueError","message":"bad","stack":"  at x\n"}}"""u8, out var failed, out _));
        var resp = failed.ToResp();
        Assert.Equal("error", resp.Status);
        Assert.Equal("HandlerFailed", resp.Error!.Code);
        Assert.Equal("ValueError: bad\n  at x", resp.Error.Message);
        Assert.Equal("ValueError", resp.Error.ErrorType);
        Assert.Equal("bad", resp.Error.ErrorMessage);
        Assert.Equal(["  at x"], resp.Error.StackTrace!); // no stackTrace list: the stack's lines
    }

    [Fact]
    public void ToResp_ErrorWithAStackTraceList_KeepsTheListAsLambdasStackTrace()
    {
        Assert.True(AnswerLine.TryParse("""{"requestId":"r","error":{"type":"KeyError","message":"'cube'","stack":"Traceback...","stackTrace":["  File \"/code/f.py\", line 2, in h\n","x"]}}"""u8, out var failed, out _));
        var error = failed.ToResp().Error!;
        Assert.Equal("KeyError", error.ErrorType);
        Assert.Equal("'cube'", error.ErrorMessage);
        Assert.Equal(["  File \"/code/f.py\", line 2, in h\n", "x"], error.StackTrace!);
        Assert.Equal("KeyError: 'cube'\nTraceback...", error.Message);
    }

    [Fact]
    public void ToResp_ErrorAsAPlainString_HasNoLambdaFields()
    {
        Assert.True(AnswerLine.TryParse("""{"requestId":"r","error":"went wrong"}"""u8, out var failed, out _));
        var error = failed.ToResp().Error!;
        Assert.Equal("went wrong", error.Message);
        Assert.Null(error.ErrorType);
        Assert.Null(error.StackTrace);
    }
}
