// Which capture backend a Linux session gets, and the PPM frames grim writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseBackend } from '../../src/client/capture/backend.js';
import { ppmToRgba } from '../../src/client/capture/ppm.js';

test('the backend follows the session: X11, wlroots compositors, other Wayland desktops through the portal; the setting overrides', () => {
  const pick = (env: Record<string, string>, setting: 'auto' | 'x11' | 'wlroots' | 'portal' = 'auto') => chooseBackend(env, setting).backend;
  assert.equal(pick({ DISPLAY: ':0' }), 'x11');
  assert.equal(pick({}), 'x11');
  assert.equal(pick({ WAYLAND_DISPLAY: 'wayland-1', SWAYSOCK: '/run/user/1000/sway-ipc.sock' }), 'wlroots');
  assert.equal(pick({ XDG_SESSION_TYPE: 'wayland', HYPRLAND_INSTANCE_SIGNATURE: 'abc' }), 'wlroots');
  assert.equal(pick({ WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'river' }), 'wlroots');
  assert.equal(pick({ WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'labwc:wlroots' }), 'wlroots');
  assert.equal(pick({ WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'ubuntu:GNOME', DISPLAY: ':0' }), 'portal');
  assert.equal(pick({ XDG_SESSION_TYPE: 'wayland', XDG_CURRENT_DESKTOP: 'KDE' }), 'portal');
  // XWayland sets DISPLAY too: a Wayland session still uses a Wayland backend, unless told otherwise.
  assert.equal(pick({ WAYLAND_DISPLAY: 'wayland-0', DISPLAY: ':0', XDG_CURRENT_DESKTOP: 'GNOME' }, 'x11'), 'x11');
  assert.equal(pick({ DISPLAY: ':0' }, 'portal'), 'portal');
  assert.match(chooseBackend({ WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'GNOME' }, 'auto').reason, /XDG_CURRENT_DESKTOP=GNOME/);
  assert.equal(chooseBackend({}, 'wlroots').reason, 'OPENRECALL_CAPTURE_BACKEND=wlroots');
});

test('a PPM from grim becomes RGBA; a comment in the header is skipped; a truncated or foreign image is refused', () => {
  const pixels = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const frame = ppmToRgba(Buffer.concat([Buffer.from('P6\n# grim\n2 2\n255\n'), pixels]));
  assert.equal(frame.width, 2);
  assert.equal(frame.height, 2);
  assert.deepEqual([...frame.data], [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255]);
  assert.throws(() => ppmToRgba(Buffer.concat([Buffer.from('P6\n2 2\n255\n'), pixels.subarray(0, 9)])), /truncated PPM: 9 of 12 pixel bytes/);
  assert.throws(() => ppmToRgba(Buffer.from('\x89PNG\r\n')), /not a P6 PPM/);
  assert.throws(() => ppmToRgba(Buffer.from('P6\n2 2\n65535\n')), /not a P6 PPM with maxval 255/);
});
