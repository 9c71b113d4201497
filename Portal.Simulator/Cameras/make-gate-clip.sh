#!/bin/sh
# Regenerates gate-clip.h264: the simulated gate camera's 10 s loop.
# H.264 Constrained Baseline (profile-level-id 42c01e), 640x360, 25 fps, IDR every 50 frames (2 s GOP),
# one slice per picture, no B-frames, SPS/PPS repeated before every IDR, raw Annex-B.
# A running clock and frame counter are burned in so a viewer can see the stream is live and looping.
# Needs ffmpeg with libx264 and drawtext (Debian: apt-get install -y ffmpeg) and the DejaVu fonts.
set -eu
cd "$(dirname "$0")"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "color=c=0x1f3a5f:s=640x360:r=25:d=10" \
  -vf "drawbox=x='mod(t*64,640)':y=300:w=40:h=40:color=0xffcc00:t=fill,\
drawtext=fontfile=$FONT:text='GATE CAM 1':x=20:y=20:fontsize=28:fontcolor=white,\
drawtext=fontfile=$FONT:text='%{pts\:hms}':x=20:y=140:fontsize=64:fontcolor=white,\
drawtext=fontfile=$FONT:text='frame %{frame_num}':x=20:y=230:fontsize=36:fontcolor=0xffcc00" \
  -c:v libx264 -profile:v baseline -level:v 3.0 -pix_fmt yuv420p \
  -x264-params "keyint=50:min-keyint=50:scenecut=0:bframes=0:ref=1:slices=1:repeat-headers=1" \
  -b:v 180k -maxrate 240k -bufsize 240k \
  -bsf:v h264_metadata=aud=remove \
  -f h264 gate-clip.h264
ls -l gate-clip.h264
