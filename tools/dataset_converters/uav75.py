"""Convert the UAV75 release to mmcrack's layout (+ a 3-class map).

    python tools/dataset_converters/uav75.py SRC_DIR -o OUT_DIR [--force]

SRC_DIR holds {train,val,test}_img/*.jpg and {train,val,test}_lab/*.png
(grey 0 background, 204 planking, 255 crack). masks/ get crack = 255 only;
classes/<split>/ keep 0/1/2 = background/planking/crack. See
docs/datasets.md.
"""
from mmcrack.datasets.converters.common import base_parser, run_cli
from mmcrack.datasets.converters.uav75 import convert_uav75


def main(argv=None):
    args = base_parser(__doc__.split('\n')[0],
                       'release folder (train_img/, train_lab/, ...)'
                       ).parse_args(argv)
    return run_cli('uav75', lambda: convert_uav75(
        args.src_dir, args.out_dir, force=args.force))


if __name__ == '__main__':
    main()
