from pathlib import Path

import pytest

from kcompressd.errors import KcompressdError
from kcompressd.lab import qemu
from kcompressd.lab.qemu import Shape


def test_memory_and_cpus_spread_over_nodes():
    s = Shape(cpus=3, memory_mib=1000, nodes=2)
    assert s.node_mib() == [500, 500] and sum(s.node_mib()) == 1000
    assert s.node_cpus(0) == [0, 2] and s.node_cpus(1) == [1]
    odd = Shape(cpus=1, memory_mib=1025, nodes=2)
    assert sum(odd.node_mib()) == 1025 and odd.node_cpus(1) == []


@pytest.mark.parametrize("shape, text", [
    (Shape(cpus=0), "--cpus"), (Shape(cpus=9), "--cpus"), (Shape(nodes=0), "--nodes"),
    (Shape(memory_mib=128), "--memory"), (Shape(memory_mib=512, nodes=8), "--memory"),
])
def test_impossible_shapes_are_refused(shape, text):
    with pytest.raises(KcompressdError, match=text):
        shape.validate()


def test_numa_nodes_each_get_memory_and_a_memory_only_node_gets_no_cpus():
    args = qemu.numa_args(Shape(cpus=1, memory_mib=1024, nodes=2))
    assert args.count("-numa") == 2 and args.count("-object") == 2
    assert "node,nodeid=0,memdev=mem0,cpus=0" in args
    assert "node,nodeid=1,memdev=mem1" in args
    assert qemu.numa_args(Shape(nodes=1)) == []


def test_command_line_shares_root_read_only_and_marks_the_guest(tmp_path: Path,
                                                                monkeypatch):
    monkeypatch.setattr(qemu, "qemu_binary", lambda: "/usr/bin/qemu-system-x86_64")
    args = qemu.command_line(bzimage=tmp_path / "bzImage", shape=Shape(cpus=2), accel="tcg",
                             init=Path("/x/init.sh"), job=tmp_path, console=tmp_path / "c")
    append = args[args.index("-append") + 1]
    assert "kcompressd.lab=1" in append.split()
    assert append.endswith("init=/bin/sh -- /x/init.sh")
    assert any("mount_tag=root" in a and "readonly=on" in a for a in args)
    assert any(f"path={tmp_path},mount_tag=job" in a for a in args)
    assert args[args.index("-accel") + 1] == "tcg,thread=multi"


def test_auto_never_picks_kvm_without_svm_or_vmx(monkeypatch):
    monkeypatch.setattr(qemu, "kvm_capable", lambda: "no svm/vmx in /proc/cpuinfo")
    probed = []
    accel, why = qemu.choose_accel("auto", lambda: probed.append(1) or True)
    assert accel == "tcg" and "svm/vmx" in why and not probed
    with pytest.raises(KcompressdError, match="--accel kvm"):
        qemu.choose_accel("kvm", lambda: True)
    with pytest.raises(KcompressdError, match="--accel must be"):
        qemu.choose_accel("hvf", lambda: True)


def test_auto_uses_kvm_only_when_a_probe_boot_works(monkeypatch):
    monkeypatch.setattr(qemu, "kvm_capable", lambda: None)
    assert qemu.choose_accel("auto", lambda: True)[0] == "kvm"
    accel, why = qemu.choose_accel("auto", lambda: False)
    assert accel == "tcg" and "probe boot" in why


def test_icount_runs_one_tcg_thread_on_an_instruction_clock(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(qemu, "qemu_binary", lambda: "/usr/bin/qemu-system-x86_64")
    monkeypatch.setattr(qemu, "kvm_capable", lambda: None)  # asked for: never probed, never KVM
    assert qemu.choose_accel("icount", lambda: pytest.fail("probed"))[0] == "icount"
    args = qemu.command_line(bzimage=tmp_path / "bzImage", shape=Shape(cpus=2),
                             accel="icount", init=Path("/x/init.sh"), job=tmp_path,
                             console=tmp_path / "c")
    # -icount refuses a thread per vCPU; sleep=off makes an idle guest's clock jump.
    assert args[args.index("-accel") + 1] == "tcg,thread=single"
    assert args[args.index("-icount") + 1] == f"shift={qemu.ICOUNT_SHIFT},sleep=off"


def test_an_icount_guest_of_several_vcpus_is_said_to_be_no_smp_machine(tmp_path: Path,
                                                                       monkeypatch, capsys):
    from kcompressd.lab import machine as lab_machine

    monkeypatch.setattr(lab_machine, "qemu_binary", lambda: "/usr/bin/qemu-system-x86_64")
    monkeypatch.setattr(lab_machine.image, "resolve",
                        lambda kernel: (tmp_path / "bzImage", {"version": "6.12"}))
    one = lab_machine.machine(None, Shape(cpus=1), "icount")
    two = lab_machine.machine(None, Shape(cpus=2), "icount")
    assert "SMP" not in one.accel_reason and "no SMP machine" in two.accel_reason
    assert "no SMP machine" in capsys.readouterr().err
