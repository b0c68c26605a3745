using System.CommandLine;
using Tern.Api.Hosting;
using Tern.Drivers.Microvm.Images;
using Tern.Drivers.Sandbox;

namespace Tern.Cli.Commands;

/// <summary>`tern images build RUNTIME`: builds the microVM guest image for a runtime on this host, into the images
/// directory the daemon reads (DATA_DIR/images by default, the daemon's microvm.imagesDir). Runs here, not in the
/// daemon: it downloads a kernel package and copies the host's runtime, which is the host's business, and it prints its
/// progress as it goes.</summary>
internal static class ImageCommands
{
    public static Command Create(CliContext context)
    {
        var command = new Command("images", "Build microVM guest images (isolation: microvm)");
        command.Aliases.Add("image");
        var runtime = new Argument<string>("runtime") { Description = "The runtime to build an image for", HelpName = "RUNTIME" };
        runtime.AcceptOnlyFromAmong([.. GuestImageBuilder.Runtimes]);
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "The daemon's data directory; the image goes to DIR/images (env TERN_DATA_DIR, default ~/.local/share/tern)",
            HelpName = "DIR",
        };
        var imagesDir = new Option<string>("--images-dir") { Description = "Where images go, if not DATA_DIR/images (microvm.imagesDir)", HelpName = "DIR" };
        var build = new Command("build", "Build (or confirm up to date) the guest image for a runtime") { runtime, dataDir, imagesDir };
        build.SetAction(async (result, ct) =>
        {
            var target = result.GetValue(imagesDir) is { Length: > 0 } images ? images
                : Path.Combine(result.GetValue(dataDir) is { Length: > 0 } dir ? dir
                    : Environment.GetEnvironmentVariable("TERN_DATA_DIR") is { Length: > 0 } env ? env : DaemonOptions.DefaultDataDir(), "images");
            var sandbox = new SandboxOptions();
            var builder = new GuestImageBuilder(target, sandbox.AgentPath, sandbox.RuntimeAssetsDir);
            try
            {
                var image = await builder.BuildAsync(result.GetValue(runtime)!, line => context.Stdout.WriteLine(line), ct);
                context.Stdout.WriteLine($"{image.Runtime}: {image.Hash[..12]} ({image.Directory})");
                return ExitCodes.Success;
            }
            catch (InvalidOperationException e)
            {
                throw new CliException($"images build: {e.Message}", ExitCodes.Failure);
            }
            catch (IOException e)
            {
                throw new CliException($"images build: {e.Message}", ExitCodes.Failure);
            }
        });
        command.Subcommands.Add(build);
        return command;
    }
}
