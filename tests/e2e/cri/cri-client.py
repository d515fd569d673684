#!/usr/bin/python3
"""A small client of Kubernetes' CRI (runtime.v1) for tests/e2e/test-cri.sh:
the calls a kubelet makes to run a pod, one per command line, against a CRI
endpoint (containerd's unix socket), without a kubelet.

    cri-client.py GENDIR SOCKET COMMAND ARGS...

GENDIR holds the Python modules compiled from runtime-v1.proto at test time
(python3 -m grpc_tools.protoc). Configs are JSON files in the proto's field
names (json_format). Commands:

    version
    image-status IMAGE                     prints the image id, exits 1 if absent
    runp POD.json HANDLER                  RunPodSandbox; prints the sandbox id
    podstatus SANDBOX                      PodSandboxStatus as JSON
    stopp SANDBOX | rmp SANDBOX            StopPodSandbox, RemovePodSandbox
    create SANDBOX POD.json CTR.json       CreateContainer; prints the container id
    start CTR | stop CTR TIMEOUT | rm CTR  StartContainer, StopContainer, RemoveContainer
    status CTR                             ContainerStatus as JSON
    exec CTR TIMEOUT CMD...                ExecSync: its stdout and stderr, and its
                                           exit code as this program's

A failed call prints "CODE: details" of the gRPC status on stderr and exits
100 (ExecSync's own exit codes are the command's).
"""
import json
import sys

gendir, sock, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sys.path.insert(0, gendir)

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import runtime_v1_pb2 as api  # noqa: E402
import runtime_v1_pb2_grpc as rpc  # noqa: E402


def load(path, msg):
    with open(path) as f:
        return json_format.ParseDict(json.load(f), msg)


def show(msg):
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True), sort_keys=True))


def main():
    chan = grpc.insecure_channel("unix://" + sock)
    rt = rpc.RuntimeServiceStub(chan)
    im = rpc.ImageServiceStub(chan)
    t = 120
    if cmd == "version":
        show(rt.Version(api.VersionRequest(version="v1"), timeout=t))
    elif cmd == "image-status":
        r = im.ImageStatus(api.ImageStatusRequest(image=api.ImageSpec(image=args[0])), timeout=t)
        if not r.image.id:
            return 1
        print(r.image.id)
    elif cmd == "runp":
        r = rt.RunPodSandbox(
            api.RunPodSandboxRequest(config=load(args[0], api.PodSandboxConfig()), runtime_handler=args[1]),
            timeout=t)
        print(r.pod_sandbox_id)
    elif cmd == "podstatus":
        show(rt.PodSandboxStatus(api.PodSandboxStatusRequest(pod_sandbox_id=args[0]), timeout=t).status)
    elif cmd == "stopp":
        rt.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=args[0]), timeout=t)
    elif cmd == "rmp":
        rt.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=args[0]), timeout=t)
    elif cmd == "create":
        r = rt.CreateContainer(
            api.CreateContainerRequest(pod_sandbox_id=args[0], sandbox_config=load(args[1], api.PodSandboxConfig()),
                                       config=load(args[2], api.ContainerConfig())),
            timeout=t)
        print(r.container_id)
    elif cmd == "start":
        rt.StartContainer(api.StartContainerRequest(container_id=args[0]), timeout=t)
    elif cmd == "stop":
        rt.StopContainer(api.StopContainerRequest(container_id=args[0], timeout=int(args[1])), timeout=t)
    elif cmd == "rm":
        rt.RemoveContainer(api.RemoveContainerRequest(container_id=args[0]), timeout=t)
    elif cmd == "status":
        show(rt.ContainerStatus(api.ContainerStatusRequest(container_id=args[0]), timeout=t).status)
    elif cmd == "exec":
        r = rt.ExecSync(api.ExecSyncRequest(container_id=args[0], timeout=int(args[1]), cmd=args[2:]), timeout=t)
        sys.stdout.buffer.write(r.stdout)
        sys.stdout.flush()
        sys.stderr.buffer.write(r.stderr)
        return r.exit_code
    else:
        print("cri-client.py: unknown command " + cmd, file=sys.stderr)
        return 2
    return 0


try:
    sys.exit(main())
except grpc.RpcError as e:
    print("%s: %s" % (e.code().name, e.details()), file=sys.stderr)
    sys.exit(100)
