using k8s.Models;
using Tern.Drivers.Kubernetes.Jobs;

namespace Tern.Drivers.Tests.Kubernetes;

/// <summary>What a job-style call fails with when its pod ends without reporting, from the pod as the watch reports it
/// (the fake-cluster tests cover a deleted pod and a failed one end to end; these cover the states the fake cannot
/// produce, such as an OOM kill or an image that cannot be named).</summary>
public sealed class JobPodsEndTests
{
    private static V1Pod Pod(string phase, V1ContainerState? state = null, string? reason = null, string? message = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "tern-call-x-ab12-00001" },
        Status = new V1PodStatus
        {
            Phase = phase, Reason = reason, Message = message,
            ContainerStatuses = state is null ? null : [new V1ContainerStatus { Name = "agent", Image = "i", ImageID = "", State = state }],
        },
    };

    [Fact]
    public void Running_OrPendingForAnImagePull_MayStillReport()
    {
        Assert.Null(JobPods.EndOf(Pod("Running", new V1ContainerState { Running = new V1ContainerStateRunning() })));
        Assert.Null(JobPods.EndOf(Pod("Pending", new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } })));
        Assert.Null(JobPods.EndOf(Pod("Pending", new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ErrImagePull" } })));
    }

    [Fact]
    public void OomKilled_IsOutOfMemory_AFailure_NamesExitCodeAndLastWords_ADeadline_ThePodsReason()
    {
        var oom = JobPods.EndOf(Pod("Failed", new V1ContainerState { Terminated = new V1ContainerStateTerminated { Reason = "OOMKilled", ExitCode = 137 } }))!;
        Assert.Equal("OutOfMemory", oom.Code);
        Assert.Contains("OOMKilled", oom.Message);

        var failed = JobPods.EndOf(Pod("Failed", new V1ContainerState
        {
            Terminated = new V1ContainerStateTerminated { Reason = "Error", ExitCode = 1, Message = "tern-agent: could not report\n" },
        }))!;
        Assert.Equal("WorkerCrashed", failed.Code);
        Assert.Equal("pod tern-call-x-ab12-00001 failed (Error, exit code 1: tern-agent: could not report)", failed.Message);

        var deadline = JobPods.EndOf(Pod("Failed", reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline"))!;
        Assert.Equal("pod tern-call-x-ab12-00001 failed (DeadlineExceeded: Pod was active on the node longer than the specified deadline)", deadline.Message);
    }

    [Fact]
    public void ExitedWithoutAResult_HopelessWaits_AndDeletion_EndTheCall()
    {
        Assert.Contains("exited without reporting a result", JobPods.EndOf(Pod("Succeeded"))!.Message);
        var image = JobPods.EndOf(Pod("Pending", new V1ContainerState
        {
            Waiting = new V1ContainerStateWaiting { Reason = "InvalidImageName", Message = "couldn't parse image reference" },
        }))!;
        Assert.Equal("pod tern-call-x-ab12-00001 cannot start: InvalidImageName: couldn't parse image reference", image.Message);
        var deleting = Pod("Running");
        deleting.Metadata.DeletionTimestamp = DateTime.UtcNow;
        Assert.Contains("is being deleted", JobPods.EndOf(deleting)!.Message);
    }
}
