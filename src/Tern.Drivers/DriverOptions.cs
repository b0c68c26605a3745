using System.ComponentModel.DataAnnotations;
using Tern.Core.Functions;
using Tern.Core.Settings;

namespace Tern.Drivers;

/// <summary>Choices across drivers (section "drivers").</summary>
public sealed class DriverOptions
{
    public const string Section = "drivers";

    [Setting("The isolation a function gets when its definition names none: sandbox (bubblewrap), gvisor, microvm or kubernetes")]
    [AllowedValues(FunctionLimits.DefaultIsolation, Gvisor.GvisorDriver.DriverName, Microvm.MicrovmDriver.DriverName, Kubernetes.KubernetesDriver.DriverName)]
    public string DefaultIsolation { get; set; } = FunctionLimits.DefaultIsolation;
}
