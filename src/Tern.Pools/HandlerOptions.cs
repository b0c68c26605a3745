using System.ComponentModel.DataAnnotations;
using Tern.Core.Settings;

namespace Tern.Pools;

/// <summary>What every handler's environment is given by the daemon (section "handlers").</summary>
public sealed class HandlerOptions
{
    public const string Section = "handlers";
    public const string DefaultRegion = "us-east-1";

    [Setting("The region handlers see as AWS_REGION and AWS_DEFAULT_REGION (AWS SDKs in a handler need one)")]
    [Required]
    [RegularExpression("^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", ErrorMessage = "must be a region name such as us-east-1 or eu-west-3")]
    public string AwsRegion { get; set; } = DefaultRegion;

    /// <summary>On by default: it takes the agent's two wake-ups off every warm call (docs/hot-path.md).</summary>
    [Setting("Hand a persistent handler's stdin/stdout/stderr to the daemon once it has loaded, so warm calls skip the agent (sandbox driver); false: the agent relays every call")]
    public bool Handoff { get; set; } = true;
}
