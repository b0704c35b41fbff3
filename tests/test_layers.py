"""The layer view's core (core/analysis/layers.py): every feature map of a forward pass listed in
order for each family, the chosen one captured exactly, and pictured against its formula."""
import numpy as np
import pytest
import torch

from pgstudio.core.analysis.layers import (default_layer, picture, strongest_channels, trace_and_picture,
                                           trace_layers)
from pgstudio.core.config import TrainConfig
from pgstudio.core.models import build_generator, generator_architecture

GENERATORS = {
    "progressive": dict(arch="progressive"),
    "stylegan2": dict(arch="stylegan2", mapping_layers=2),
    "classic-dcgan": dict(arch="classic", g_arch="dcgan"),
    "classic-resnet": dict(arch="classic", g_arch="resnet", attention_res=8),
}


def generator(**settings):
    cfg = TrainConfig(data="unused", resolution=16, latent_size=16, fmap_base=64, fmap_max=16, **settings)
    torch.manual_seed(0)
    return build_generator(generator_architecture(cfg, 3)).eval()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_feature_map_is_listed_in_the_order_g_computes_it(name):
    G = generator(**GENERATORS[name])
    z = torch.randn(1, 16)
    layers, _ = trace_layers(G, lambda: G(z, G.max_level, 1.0))
    assert len(layers) >= 6
    sides = [l.height for l in layers]
    assert sides == sorted(sides), "maps listed out of execution order (resolution only grows in G)"
    assert sides[0] == 4 and sides[-1] == 16
    keys = [l.key for l in layers]
    assert len(set(keys)) == len(keys)
    again, _ = trace_layers(G, lambda: G(torch.randn(1, 16), G.max_level, 1.0))
    assert [l.key for l in again] == keys, "keys must not depend on the latent: the view follows one layer"
    module_names = {n for n, _ in G.named_modules()}
    assert all(k.split("#")[0] in module_names for k in keys)


def test_a_block_is_listed_by_its_own_name_and_a_shared_module_by_its_call():
    """Progressive G's blocks end in a pixel norm shared by every layer: the block's output is
    listed as the block, the norm's other calls as norm, norm#2 … never twice the same key."""
    G = generator(arch="progressive")
    layers, _ = trace_layers(G, lambda: G(torch.randn(1, 16), G.max_level, 1.0))
    keys = [l.key for l in layers]
    assert "blocks.4" in keys and "blocks.4.conv1" in keys and "first" in keys
    # the block comes after its convolutions, with their shape
    assert keys.index("blocks.4") > keys.index("blocks.4.conv2")
    block = layers[keys.index("blocks.4")]
    assert (block.channels, block.height) == (layers[keys.index("blocks.4.conv2")].channels, 16)


def test_a_progressive_g_below_its_top_level_lists_only_what_runs():
    G = generator(arch="progressive")
    layers, _ = trace_layers(G, lambda: G(torch.randn(1, 16), 3, 1.0))
    assert max(l.height for l in layers) == 8
    assert not any(l.key.startswith("blocks.4") for l in layers)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_captured_map_is_the_modules_output_for_the_first_sample(name):
    G = generator(**GENERATORS[name])
    z = torch.randn(2, 16)
    layers, _ = trace_layers(G, lambda: G(z, G.max_level, 1.0))
    key = next(l.key for l in layers if "#" not in l.key and l.height == 8)
    module = dict(G.named_modules())[key]
    seen = []
    handle = module.register_forward_hook(lambda m, i, o: seen.append(o[0].detach().clone()))
    try:
        with torch.no_grad():
            G(z, G.max_level, 1.0)
    finally:
        handle.remove()
    _, activation = trace_layers(G, lambda: G(z, G.max_level, 1.0), key)
    np.testing.assert_array_equal(activation, seen[0].numpy())


def test_an_mlp_generator_has_no_maps_and_says_so_with_none():
    G = generator(arch="classic", g_arch="mlp", d_arch="mlp")
    assert trace_and_picture(G, lambda: G(torch.randn(1, 16), G.max_level, 1.0), None) == ([], None, None)


def test_the_first_layer_shown_is_the_last_feature_map_before_the_image():
    G = generator(arch="progressive")
    z = torch.randn(1, 16)
    layers, key, pic = trace_and_picture(G, lambda: G(z, G.max_level, 1.0), None)
    assert key == default_layer(layers).key == "blocks.4"
    layers, key, pic = trace_and_picture(G, lambda: G(z, G.max_level, 1.0), "no.such.layer")
    assert key == "blocks.4"
    _, key, pic = trace_and_picture(G, lambda: G(z, G.max_level, 1.0), "blocks.3.conv1", "channel", 99)
    assert key == "blocks.3.conv1" and pic.channels == (15,)          # the channel clamped to the layer's


def test_the_mean_view_is_the_channel_mean_scaled_to_unit_range():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 6, 6)).astype(np.float32)
    mean = a.mean(axis=0)
    pic = picture(a, "mean")
    np.testing.assert_allclose(pic.activation, (mean - mean.min()) / (mean.max() - mean.min()), atol=1e-6)
    assert pic.channels == tuple(range(5))
    np.testing.assert_allclose(pic.peak_ratio, np.abs(mean).max() / np.abs(mean).mean(), rtol=1e-5)


def test_the_strongest_view_tiles_the_channels_of_largest_mean_magnitude_strongest_first():
    a = np.zeros((20, 4, 4), np.float32)
    for c, scale in {7: 9.0, 2: -5.0, 11: 3.0}.items():    # a negative channel is strong too
        a[c] = scale * (1 + np.arange(16, dtype=np.float32).reshape(4, 4) / 16)
    assert strongest_channels(a, 3) == (7, 2, 11)
    pic = picture(a, "strongest", strongest=4)
    assert pic.channels[:3] == (7, 2, 11) and pic.columns == 2
    assert pic.activation.shape == (2 * 5 - 1, 2 * 5 - 1)
    tile = pic.activation[:4, :4]                              # channel 7, scaled on its own
    np.testing.assert_allclose(tile, (a[7] - a[7].min()) / (a[7].max() - a[7].min()), atol=1e-6)


def test_one_channel_and_its_spectrum_peak_at_the_cosines_frequency():
    h = w = 32
    x = np.arange(w)
    a = np.zeros((3, h, w), np.float32)
    a[1] = np.cos(2 * np.pi * 5 * x / w)[None, :].repeat(h, 0)       # 5 cycles across: fx = ±5
    pic = picture(a, "channel", channel=1)
    assert pic.channels == (1,)
    peak = np.unravel_index(np.argmax(pic.spectrum), pic.spectrum.shape)
    assert peak[0] == h // 2 and abs(peak[1] - w // 2) == 5
    with pytest.raises(ValueError):
        picture(a, "channel", channel=3)
    with pytest.raises(ValueError):
        picture(a, "median")


def test_a_single_spike_reads_as_a_large_peak_ratio():
    """The droplet's signature: one hot pixel in a map reads H·W; a flat map reads 1."""
    a = np.zeros((4, 16, 16), np.float32)
    a[:, 3, 12] = 10.0
    assert picture(a, "mean").peak_ratio == pytest.approx(256.0)
    assert picture(np.ones((4, 16, 16), np.float32), "mean").peak_ratio == pytest.approx(1.0)


def test_another_threads_pass_of_the_same_generator_is_not_part_of_the_trace():
    """The explorer traces in its render thread while a projection may run the same G in its own."""
    import threading
    G = generator(arch="progressive")
    other_done = threading.Event()

    def forward():
        worker = threading.Thread(target=lambda: (G(torch.randn(3, 16), 3, 1.0), other_done.set()))
        worker.start()
        worker.join()
        return G(torch.randn(1, 16), G.max_level, 1.0)
    layers, _ = trace_layers(G, forward)
    alone, _ = trace_layers(G, lambda: G(torch.randn(1, 16), G.max_level, 1.0))
    assert other_done.is_set()
    assert [l.key for l in layers] == [l.key for l in alone]
