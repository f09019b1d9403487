# Debian's python3-socketio client (the original app's own stack) against the built `posestream serve`:
# default transports (polling, then the upgrade) and websocket-only, the golden sequence's JPEGs as data
# URLs in emit('frame', {'image', 'sequence'}), each frame answered exactly once, results with a pose.
#   /usr/bin/python3 socketio_python.py --binary BUILD/posestream --source-dir SRC
# Exit 77 (CTest's skip) when python3-socketio is not installed; 1 on any failed check.
import argparse
import base64
import os
import re
import subprocess
import sys
import threading

try:
    import socketio
    # python3-engineio's transports: polling (requests) and WebSocket (websocket-client), only
    # Recommends of the Debian package, so an install without recommends lacks them.
    import requests  # noqa: F401
    import websocket  # noqa: F401
except ImportError as missing:
    print(f'socketio_python: SKIP: {missing.name} is not installed: python3-socketio, python3-requests and '
          'python3-websocket are needed (scripts/setup installs them)')
    sys.exit(77)

WAIT_S = 120     # Generous: 2 shared cores, and the first frame loads the models.
IN_FLIGHT = 2    # Frames sent and not yet answered, at most (the client's own pacing, as the web client's).


def log(message):
    print(f'socketio_python: {message}', flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(f'check failed: {message}')
    log(f'ok: {message}')


def golden_frames(source_dir):
    shared = os.environ.get('POSESTREAM_SHARED') or os.path.join(source_dir, '..', 'shared')
    folder = os.path.join(shared, 'golden', 'sequences', 'frames_seq_gesture_four_06aa')
    files = sorted(name for name in os.listdir(folder) if name.endswith('.jpg'))
    check(len(files) > 0, f'{len(files)} golden frames in {folder}')
    frames = []
    for name in files:
        with open(os.path.join(folder, name), 'rb') as jpeg:
            frames.append('data:image/jpeg;base64,' + base64.b64encode(jpeg.read()).decode('ascii'))
    return frames


def start_server(binary, source_dir):
    """Starts `posestream serve` on a free port; returns (process, url, output lines)."""
    models = os.environ.get('POSESTREAM_MODELS') or os.path.join(source_dir, 'models')
    server = subprocess.Popen([binary, 'serve', '--host', '127.0.0.1', '--port', '0', '--models', models,
                               '--workers', '1'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    found = threading.Event()
    url = []

    def read():  # Keeps draining the pipe so that the server never blocks on its log.
        for line in server.stdout:
            output.append(line)
            match = re.search(r'posestream: open (http://\S+/)', line)
            if match and not found.is_set():
                url.append(match.group(1))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(WAIT_S) or not url:
        server.kill()
        raise AssertionError(f'the server printed no URL (exit {server.wait()}):\n' + ''.join(output))
    return server, url[0], output


class Stream:
    """One Socket.IO connection sending the frames and collecting their answers."""

    def __init__(self):
        self.client = socketio.Client()
        self.lock = threading.Condition()
        self.answers = {}   # sequence -> [event names]: one each when all is well.
        self.results = []
        self.hello = None
        self.errors = []
        for event in ('result', 'dropped'):
            self.client.on(event, self.make_handler(event))
        self.client.on('hello', self.on_hello)
        self.client.on('error', lambda body: self.errors.append(body))

    def on_hello(self, body):
        with self.lock:
            self.hello = body
            self.lock.notify_all()

    def make_handler(self, event):
        def handler(body):
            with self.lock:
                self.answers.setdefault(body.get('sequence'), []).append(event)
                if event == 'result':
                    self.results.append(body)
                self.lock.notify_all()
        return handler

    def answered(self):
        return sum(len(events) for events in self.answers.values())

    def run(self, url, transports, frames):
        self.client.connect(url, transports=transports, wait_timeout=10)
        with self.lock:
            check(self.lock.wait_for(lambda: self.hello is not None, WAIT_S), 'a hello event on connect')
        for sequence, image in enumerate(frames):
            with self.lock:
                if not self.lock.wait_for(lambda: sequence - self.answered() < IN_FLIGHT, WAIT_S):
                    raise AssertionError(f'no answer for {WAIT_S} s before frame {sequence}')
            self.client.emit('frame', {'image': image, 'sequence': sequence})
        with self.lock:
            self.lock.wait_for(lambda: self.answered() >= len(frames), WAIT_S)
        transport = self.client.transport()
        # One more frame with an ack: its answer comes back as the ack, after every earlier frame's
        # (answers follow sequence order), so no late duplicate of those can still be on its way.
        ack = self.client.call('frame', {'image': frames[0], 'sequence': len(frames)}, timeout=WAIT_S)
        self.client.disconnect()
        return transport, ack


def run_mode(url, name, transports, frames):
    log(f'{name}: {len(frames)} frames')
    stream = Stream()
    transport, ack = stream.run(url, transports, frames)
    check(transport == 'websocket', f'{name}: the connection ended on {transport} (websocket expected)')
    check(not stream.errors, f'{name}: no error events ({stream.errors[:2]})')
    missing = [sequence for sequence in range(len(frames)) if sequence not in stream.answers]
    check(not missing, f'{name}: every frame answered (missing: {missing})')
    repeated = {sequence: events for sequence, events in stream.answers.items() if len(events) != 1}
    check(not repeated, f'{name}: every frame answered exactly once (repeated: {repeated})')
    extra = sorted(set(stream.answers) - set(range(len(frames))), key=str)
    check(not extra, f'{name}: no answer for a sequence never sent ({extra})')
    check(len(stream.results) > 0, f'{name}: {len(stream.results)} results, '
                                   f'{len(frames) - len(stream.results)} dropped')
    posed = [result for result in stream.results if (result.get('pose') or {}).get('landmarks')]
    check(len(posed) == len(stream.results) and all(len(r['pose']['landmarks']) == 33 for r in posed),
          f'{name}: every result carries a pose of 33 landmarks')
    ack_body = ack[0] if isinstance(ack, (list, tuple)) else ack
    check(isinstance(ack_body, dict) and ack_body.get('sequence') == len(frames),
          f'{name}: the frame sent with an ack is answered by the ack ({str(ack_body)[:80]})')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--source-dir', required=True)
    arguments = parser.parse_args()
    help_text = subprocess.run([arguments.binary, 'serve', '--help'], capture_output=True, text=True).stdout
    if '--allowed-origins' not in help_text:  # A build from before the Socket.IO endpoint (issue 13).
        log(f'SKIP: {arguments.binary} serves no Socket.IO (no --allowed-origins in serve --help)')
        sys.exit(77)
    frames = golden_frames(arguments.source_dir)
    server, url, output = start_server(arguments.binary, arguments.source_dir)
    try:
        run_mode(url, 'default transports', None, frames)
        run_mode(url, 'websocket only', ['websocket'], frames)
    except BaseException:
        print(''.join(output[-40:]), file=sys.stderr)
        raise
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError('the server did not stop within 30 s of SIGTERM')
    log('passed')


if __name__ == '__main__':
    main()
