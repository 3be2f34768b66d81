# Runs on a managed machine over SSH (python3 is already there: Ansible needs
# it) and prints the machine's hardware profile as one JSON object, in the
# shape of infra/node-profile.ts. Read-only: it changes nothing on the host.
import datetime
import json
import os
import platform
import shutil
import socket
import subprocess


def run(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def os_release():
    values = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as release:
            for line in release:
                key, _, value = line.strip().partition("=")
                values[key] = value.strip('"')
    except OSError:
        pass
    return values


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bytes():
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def disks():
    found = []
    output = run("df", "-P", "-B1", "-x", "tmpfs", "-x", "devtmpfs", "-x", "overlay", "-x", "squashfs") or ""
    for line in output.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 6 and fields[1].isdigit():
            found.append({"device": fields[0], "sizeBytes": int(fields[1]), "usedBytes": int(fields[2]), "mount": fields[5]})
    if not found:
        usage = shutil.disk_usage("/")
        found.append({"device": "rootfs", "sizeBytes": usage.total, "usedBytes": usage.used, "mount": "/"})
    return found


def interfaces():
    found = []
    for link in json.loads(run("ip", "-j", "addr", "show") or "[]"):
        if link.get("ifname") == "lo":
            continue
        addresses = [f"{info['local']}/{info['prefixlen']}" for info in link.get("addr_info", []) if info.get("family") in ("inet", "inet6") and info.get("scope") != "link"]
        entry = {"name": link.get("ifname", "?"), "addresses": addresses}
        if link.get("address"):
            entry["mac"] = link["address"]
        found.append(entry)
    return found


def docker():
    version = run("docker", "version", "--format", "{{.Server.Version}}")
    if not version:
        return None
    swarm = json.loads(run("docker", "info", "--format", "{{json .Swarm}}") or "{}")
    membership = {"state": swarm.get("LocalNodeState", "inactive"), "managers": [peer.get("Addr", "") for peer in (swarm.get("RemoteManagers") or [])]}
    if swarm.get("NodeID"):
        membership["nodeId"] = swarm["NodeID"]
        membership["role"] = "manager" if swarm.get("ControlAvailable") else "worker"
    cluster = (swarm.get("Cluster") or {}).get("ID")
    if cluster:
        membership["clusterId"] = cluster
    return {"version": version.strip(), "swarm": membership}


release = os_release()
print(json.dumps({
    "hostname": socket.gethostname(),
    "os": {"name": release.get("NAME", platform.system()), "version": release.get("VERSION_ID", ""), "kernel": platform.release(), "arch": platform.machine()},
    "cpu": {"model": cpu_model(), "cores": os.cpu_count() or 0},
    "memoryBytes": memory_bytes(),
    "disks": disks(),
    "interfaces": interfaces(),
    "docker": docker(),
    "collectedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
}))
