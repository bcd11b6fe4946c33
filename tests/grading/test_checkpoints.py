"""Submitted checkpoints: read safely in the sandbox, measured in the grader.

The files are made here: the shipped pretrained ResNet-20, pruned with the reference;
a pickle with code in it; other models; broken files. Oracles: ``torch.unique`` and
zero counts taken directly on the tensors, and the pretrained model's documented
accuracy.
"""

import io
import os

import pytest
import torch

from edu.grading import CheckFailed, CheckpointSet, Deadline, StudentCode, find_cifar10
from edu.grading._sandbox_edu import build_sandbox_edu
from edu.grading._worker_process import WorkerProcess
from edu.models import ResNetCIFAR, pretrained_resnet20
from edu.prune import prunable_layers, prune_model
from edu.quant import quantize_weights


class _Exit42:
    """Pickles as a call of os._exit(42): loading it would end the process."""

    def __reduce__(self):
        return (os._exit, (42,))


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pruned():
    net = pretrained_resnet20()
    prune_model(net, 70)
    return net


@pytest.fixture(scope="module")
def files(pruned):
    return {
        "lab2_finetune_70.pt": _saved(pruned.state_dict()),
        "lab2_global_iterative_70.pt": _saved({"model": {"w": 3}}),
        "lab3_qat_4bit.pt": _saved(pretrained_resnet20().state_dict()),
        "lab3_sparse_qat_4bit.pt": _saved({"w": _Exit42()}),
    }


def _checkpoints(files, root, make_policy, max_bytes=64 << 20):
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)
    code = build_sandbox_edu(root / "sandbox-edu")
    policy = make_policy(*code, root / "files")
    readers = []

    def reader():
        worker = WorkerProcess(policy, *code, root / "reader", Deadline(300))
        readers.append(worker)
        return StudentCode("reader", [], [], worker)

    return CheckpointSet(files, reader, root / "files", find_cifar10(), max_bytes), readers


@pytest.fixture(scope="module")
def checkpoints(files, tmp_path_factory, make_policy):
    checkpoints, readers = _checkpoints(files, tmp_path_factory.mktemp("ckpt"), make_policy)
    yield checkpoints
    for reader in readers:
        reader.close()


def test_are_the_layers_sparsity_measured_on_the_file(checkpoints, pruned):
    """Does every prunable layer's sparsity equal the zero count of the saved tensor?"""
    measured = checkpoints.layer_sparsity("lab2_finetune_70")
    direct = {
        name: float((layer.weight == 0).sum()) / layer.weight.numel()
        for name, layer in prunable_layers(pruned)
    }
    assert measured.keys() == direct.keys()
    for name in direct:
        assert measured[name] == pytest.approx(direct[name], abs=1e-9)
        assert measured[name] == pytest.approx(0.70, abs=0.005)


def test_are_weight_levels_counted_with_the_reference_quantizer(checkpoints):
    """Does each quantized layer have as many levels as torch.unique finds, at most 16?"""
    counts, budget = checkpoints.weight_levels("lab3_qat_4bit")
    assert budget == 16
    state = pretrained_resnet20().state_dict()
    for name, count in counts.items():
        expected = torch.unique(quantize_weights(state[f"{name}.weight"], 4)).numel()
        assert count == expected <= 16


def test_is_a_pickle_with_code_refused_not_run(checkpoints):
    """Is a checkpoint whose pickle would call os._exit refused by the safe loader?"""
    with pytest.raises(CheckFailed) as error:
        checkpoints.state("lab3_sparse_qat_4bit")
    message = str(error.value)
    assert "lab3_sparse_qat_4bit.pt was refused" in message
    assert "weights_only" in message
    assert "exited with status 42" not in message
    assert "unsupported GLOBAL posix._exit" in message  # the reason, named
    assert "weights_only` set to `False`" not in message  # not torch's advice to run it


def test_is_a_non_tensor_value_refused(checkpoints):
    """Is a file holding something other than tensors refused, naming the key?"""
    with pytest.raises(CheckFailed, match="not a tensor"):
        checkpoints.state("lab2_global_iterative_70")


def test_is_a_missing_checkpoint_named_with_the_cell_that_saves_it(tmp_path, make_policy):
    """Does a missing file's message say which notebook part saves it?"""
    checkpoints, readers = _checkpoints({}, tmp_path, make_policy)
    with pytest.raises(CheckFailed, match=r"lab3_qat_4bit\.pt is not in the submission"):
        checkpoints.model("lab3_qat_4bit")
    assert readers == []  # nothing was started for a file that is not there


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (_saved(pretrained_resnet20().state_dict())[:1000], "was refused"),
        (b"not a torch file at all", "was refused"),
        (_saved([torch.zeros(3)]), "not a state dict"),
        (_saved(ResNetCIFAR(num_layers=32).state_dict()), "ResNet-32, not a ResNet-20"),
        (_saved({"final_fc.linear.weight": torch.zeros(5, 64)}), "ResNet-20"),
    ],
    ids=["truncated", "garbage", "a list", "another depth", "wrong keys and shapes"],
)
def test_is_a_broken_checkpoint_a_failed_check_with_a_reason(data, fragment, tmp_path, make_policy):
    """Is each kind of broken file a CheckFailed whose message says what is wrong?"""
    checkpoints, readers = _checkpoints({"lab2_finetune_70.pt": data}, tmp_path, make_policy)
    try:
        with pytest.raises(CheckFailed, match=fragment):
            checkpoints.model("lab2_finetune_70")
    finally:
        for reader in readers:
            reader.close()


def test_is_a_wrongly_shaped_tensor_reported(tmp_path, make_policy):
    """Is a ResNet-20 file with one tensor of the wrong shape refused with 'size mismatch'?"""
    state = pretrained_resnet20().state_dict()
    state["final_fc.linear.weight"] = torch.zeros(5, 64)
    checkpoints, readers = _checkpoints({"lab3_qat_4bit.pt": _saved(state)}, tmp_path, make_policy)
    try:
        with pytest.raises(CheckFailed, match="size mismatch"):
            checkpoints.model("lab3_qat_4bit")
    finally:
        for reader in readers:
            reader.close()


def test_is_an_oversized_file_refused_unread(tmp_path, make_policy):
    """Is a file over the size limit refused before it is parsed?"""
    checkpoints, readers = _checkpoints(
        {"lab2_finetune_70.pt": b"0" * 2048}, tmp_path, make_policy, max_bytes=1024
    )
    with pytest.raises(CheckFailed, match="larger than"):
        checkpoints.state("lab2_finetune_70")
    assert readers == []


def test_is_the_pretrained_accuracy_measured(checkpoints):
    """Is the shipped model's 4-bit accuracy on the first 200 test images measured sensibly?"""
    if checkpoints.data_root is None:
        pytest.skip("CIFAR-10 not found: set EDU_DATA_ROOT")
    accuracy = checkpoints.accuracy("lab3_qat_4bit", 200)  # 4-bit weights: a little lower
    assert 0.6 < accuracy <= 1.0


@pytest.fixture(scope="module")
def lab3_checks():
    """The hidden checks of Lab 3, imported as the grader imports them (``grader/`` first)."""
    import importlib
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parents[2] / "grader")
    sys.path.insert(0, folder)
    try:
        yield importlib.import_module("test_lab3")
    finally:
        sys.path.remove(folder)


@pytest.mark.parametrize(
    ("submitted", "trained_quantized"),
    [
        ("pretrained", False),  # post-training quantization of the float model
        ("lab2_finetune_70", False),  # a float finetune submitted as a Lab 3 checkpoint
        ("lab3_qat_4bit", True),  # the reference quantization-aware finetune
    ],
)
def test_is_a_float_trained_model_refused_as_quantization_aware(
    submitted, trained_quantized, lab3_checks, tmp_path, make_policy, monkeypatch
):
    """Does the Lab 3 accuracy check refuse weights that do better in float than with
    4 bits, whatever the threshold, and pass the reference trained through the quantizer?"""
    from edu.experiments import REFERENCE_FOLDER, reference_checkpoints

    if find_cifar10() is None:
        pytest.skip("CIFAR-10 not found: set EDU_DATA_ROOT")
    sources = {"pretrained": pretrained_resnet20().state_dict()}
    sources |= {
        name: torch.load(path) for name, path in reference_checkpoints(REFERENCE_FOLDER).items()
    }
    files = {"lab3_qat_4bit.pt": _saved(sources[submitted])}
    checkpoints, readers = _checkpoints(files, tmp_path, make_policy)
    monkeypatch.setattr(lab3_checks, "min_accuracy", lambda name: 0.0)
    try:
        if trained_quantized:
            lab3_checks._accurate(checkpoints, "lab3_qat_4bit")
        else:
            with pytest.raises(CheckFailed, match="trained through the quantizer gain at least"):
                lab3_checks._accurate(checkpoints, "lab3_qat_4bit")
    finally:
        for reader in readers:
            reader.close()


def test_moves_cover_the_checkpoints_that_trained(tmp_path, make_policy, pruned):
    """Is every checkpoint that builds and trained measured against the pretrained model
    run the same way, and are the untrained ones left out (pruned only, the pretrained
    model at 4 bits, which students who skip training all hand in), the unreadable too?"""
    from edu.grading._copies import pretrained_signature
    from edu.grading._output_similarity import output_signature

    trained = {
        key: torch.where(value != 0, value * 1.05, value) if key.endswith("conv.weight") else value
        for key, value in pruned.state_dict().items()
    }
    files = {
        "lab2_finetune_70.pt": _saved(trained),
        "lab2_global_iterative_70.pt": _saved(pruned.state_dict()),
        "lab3_qat_4bit.pt": _saved(pretrained_resnet20().state_dict()),
        "lab3_sparse_qat_4bit.pt": _saved({"w": _Exit42()}),
    }
    checkpoints, readers = _checkpoints(files, tmp_path, make_policy)
    try:
        moves = checkpoints.moves()
        assert sorted(moves) == ["lab2_finetune_70"]
        net = ResNetCIFAR()
        net.load_state_dict(trained)
        expected = output_signature(net) - pretrained_signature(None, False)
        assert torch.allclose(
            torch.tensor(moves["lab2_finetune_70"], dtype=torch.float64), expected
        )
    finally:
        for reader in readers:
            reader.close()


def test_is_a_model_of_other_widths_refused_unbuilt(tmp_path, make_policy):
    """A narrower (channel-pruned) or zero-padded wider ResNet-20 is not the homework's
    model: is it refused by its shapes before any model is built?"""
    from edu.prune import remove_channels

    narrow = remove_channels(pretrained_resnet20(), 0.5).state_dict()
    wide = dict(pretrained_resnet20().state_dict())
    block = "body_op.0.conv1.0"
    wide[f"{block}.conv.weight"] = torch.zeros(64, 16, 3, 3)  # 4x the channels, all zero
    files = {"lab2_finetune_70.pt": _saved(narrow), "lab2_global_iterative_70.pt": _saved(wide)}
    checkpoints, readers = _checkpoints(files, tmp_path, make_policy)
    try:
        with pytest.raises(CheckFailed, match=r"inner widths \[8, 8, 8, 16"):
            checkpoints.model("lab2_finetune_70")
        with pytest.raises(CheckFailed, match=r"inner widths \[64, 16"):
            checkpoints.model("lab2_global_iterative_70")
    finally:
        for reader in readers:
            reader.close()


def test_are_weights_stored_on_their_grid_refused_as_quantization_aware(
    lab3_checks, tmp_path, make_policy, monkeypatch
):
    """The pretrained model quantized and stored as it is: the same model quantized or
    not (a gain of 0 by construction). Is it refused, whatever the accuracy?"""
    from edu.models import resnet_from_state_dict

    net = resnet_from_state_dict(pretrained_resnet20().state_dict(), Nbits=4)
    on_grid = net.state_dict()
    with torch.no_grad():
        for name, layer in prunable_layers(net):
            if hasattr(layer, "quantized_weight"):
                on_grid[f"{name}.weight"] = layer.quantized_weight().clone()
    checkpoints, readers = _checkpoints(
        {"lab3_qat_4bit.pt": _saved(on_grid)}, tmp_path, make_policy
    )
    monkeypatch.setattr(lab3_checks, "min_accuracy", lambda name: 0.0)
    try:
        with pytest.raises(CheckFailed, match="already on their 4-bit grid"):
            lab3_checks._trained_through_quantizer(checkpoints, "lab3_qat_4bit")
    finally:
        for reader in readers:
            reader.close()


def _moved(state: dict, seed: int, scale: float = 0.01) -> dict:
    """``state`` moved as a short training run would: noise on every float weight."""
    generator = torch.Generator().manual_seed(seed)
    return {
        key: value + scale * torch.randn(value.shape, generator=generator)
        if value.is_floating_point() and key.endswith(".weight")
        else value
        for key, value in state.items()
    }


def test_are_copies_of_a_reference_checkpoint_refused(tmp_path, make_policy):
    """A reference checkpoint submitted as it is, or with noise a twentieth of its move,
    fails every check of the file with the reason, which comes before a classmate's pair
    and keeps the file out of the class pass, though a later checkpoint may still start
    from it; an independent run from the same start, and a model that never moved, are
    read as usual."""
    from edu.grading._copies import References

    start = pretrained_resnet20().state_dict()
    reference = _moved(start, 1)
    nudged = _moved(reference, 2, scale=0.0005)
    files = {
        "lab2_finetune_70.pt": _saved(reference),
        "lab2_global_iterative_70.pt": _saved(nudged),
        "lab3_qat_4bit.pt": _saved(_moved(start, 3)),
        "lab3_sparse_qat_4bit.pt": _saved(start),
    }
    checkpoints, readers = _checkpoints(files, tmp_path, make_policy)
    checkpoints.references = References({"lab2_finetune_70.pt": reference})
    checkpoints.shared = {"lab2_finetune_70": "nearly identical to another student's"}
    try:
        copies = {"lab2_finetune_70": reference, "lab2_global_iterative_70": nudged}
        for name, weights in copies.items():
            with pytest.raises(CheckFailed, match="copy of the course's reference checkpoint"):
                checkpoints.model(name)
            with pytest.raises(CheckFailed, match=r"lab2_finetune_70\.pt"):
                checkpoints.total_sparsity(name)
            started = checkpoints.starting_point(name).state_dict()  # a later one's start
            assert all(torch.equal(started[key], value) for key, value in weights.items())
        assert checkpoints.model("lab3_qat_4bit") is not None
        assert checkpoints.model("lab3_sparse_qat_4bit") is not None  # unmoved: nobody's copy
        assert sorted(checkpoints.moves()) == ["lab3_qat_4bit"]  # not the untrained one
    finally:
        for reader in readers:
            reader.close()


def test_is_a_checkpoint_shared_with_a_classmate_refused(tmp_path, make_policy, pruned):
    """A checkpoint the class pass named fails with its message and is still measured."""
    files = {"lab2_finetune_70.pt": _saved(_moved(pruned.state_dict(), 1))}
    checkpoints, readers = _checkpoints(files, tmp_path, make_policy)
    checkpoints.shared = {"lab2_finetune_70": "nearly identical to another student's"}
    try:
        with pytest.raises(CheckFailed, match="nearly identical to another student's"):
            checkpoints.layer_sparsity("lab2_finetune_70")
        assert list(checkpoints.moves()) == ["lab2_finetune_70"]
    finally:
        for reader in readers:
            reader.close()


def test_is_a_disguised_copy_of_a_reference_refused(tmp_path, make_policy, disguises):
    """A reference checkpoint rescaled, sign-flipped, permuted and moved within its 4-bit
    bins computes what the reference computes: refused, whichever checkpoint it is handed
    in as, the reference run as that checkpoint is graded."""
    from edu.grading._copies import References

    reference = _moved(pretrained_resnet20().state_dict(), 1)
    files = {
        "lab3_qat_4bit.pt": _saved(disguises.disguised(reference, 4)),
        "lab3_sparse_qat_4bit.pt": _saved(disguises.disguised(reference)),
    }
    checkpoints, readers = _checkpoints(files, tmp_path, make_policy)
    checkpoints.references = References({"retired/0123/lab3_qat_4bit.pt": reference})
    try:
        for name in ("lab3_qat_4bit", "lab3_sparse_qat_4bit"):
            with pytest.raises(CheckFailed, match="earlier release's reference checkpoint"):
                checkpoints.weight_levels(name)
    finally:
        for reader in readers:
            reader.close()
