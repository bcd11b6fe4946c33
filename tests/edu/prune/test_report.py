"""The per-layer sparsity report: counts, totals, table and JSON."""

import json

import torch
from torch import nn

from edu.models import ResNetCIFAR
from edu.prune import prepare, prunable_layers, prune_by_percentage, sparsity_report
from edu.quant import QuantConv2d


def _net():
    net = nn.Sequential(nn.Linear(4, 2, bias=False), nn.Linear(2, 10, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 4.0, 5.0]]))
        net[1].weight.fill_(1.0)
        net[1].weight[:, 0] = 0.0
    return net


def test_counts_and_total_are_weighted_by_size():
    """Are zeros counted per layer, and is the total sparsity zeros / weights, not a mean?"""
    report = sparsity_report(_net())
    rows = [(r.name, r.weights, r.zeros, r.sparsity) for r in report.layers]
    assert rows == [("0", 8, 3, 3 / 8), ("1", 20, 10, 0.5)]
    assert (report.total_weights, report.total_zeros) == (28, 13)
    assert report.total_sparsity == 13 / 28


def test_as_dict_is_json_ready():
    """Does as_dict survive a JSON round trip with the documented keys?"""
    data = json.loads(json.dumps(sparsity_report(_net()).as_dict()))
    assert data["layers"][0] == {"name": "0", "weights": 8, "zeros": 3, "sparsity": 0.375}
    assert data["total_sparsity"] == 13 / 28 and data["total_weights"] == 28


def test_markdown_table_is_aligned():
    """Do all rows of the Markdown table have the same width, with the total last?"""
    lines = sparsity_report(ResNetCIFAR()).to_markdown().splitlines()
    assert len(lines) == 2 + 20 + 1
    assert len({len(line) for line in lines}) == 1
    assert lines[-1].startswith("| total")
    assert lines[2].startswith("| head_conv.0.conv")


def test_masked_resnet_reports_the_pruning():
    """After per-layer pruning to 50 % and prepare, does every layer report ~0.5?"""
    torch.manual_seed(0)
    net = ResNetCIFAR()
    for _, layer in prunable_layers(net):
        prune_by_percentage(layer, 50)
    prepare(net)
    report = sparsity_report(net)
    assert [r.name for r in report.layers] == [name for name, _ in prunable_layers(net)]
    assert all(abs(r.sparsity - 0.5) <= 1 / r.weights for r in report.layers)


def test_quantized_option_counts_zeros_made_by_rounding():
    """With quantized=True, are weights that symmetric 2-bit rounding sends to 0 counted?

    Symmetric 2 bits has levels {-s, 0, s}: |w| < s / 2 rounds to 0. Weights
    (0.1, 0.2, 0.9, -1.0) have s = 1, so 0.1 and 0.2 become 0.
    """
    conv = QuantConv2d(1, 1, (1, 4), nbits=2, symmetric=True, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([0.1, 0.2, 0.9, -1.0]).reshape(1, 1, 1, 4))
    net = nn.Sequential(conv)
    assert sparsity_report(net).total_zeros == 0
    assert sparsity_report(net, quantized=True).total_zeros == 2
