"""Write notebooks 04-06 from the cells below, then execute them in place.

    python tools/build_notebooks_456.py            # all three
    python tools/build_notebooks_456.py 05         # only the one whose name starts with 05

The cells live here, as text, so a change to a notebook is a readable diff of
this file; the .ipynb files are committed with their outputs.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "notebooks"


def md(text: str) -> tuple[str, str]:
    return "markdown", textwrap.dedent(text).strip()


def code(text: str) -> tuple[str, str]:
    return "code", textwrap.dedent(text).strip()


# --- 04: XOR by batch, mini-batch and stochastic gradient descent

XOR = [
    md("""
    # 04 · XOR by gradient descent: batch, mini-batch, stochastic

    XOR is the smallest problem a single neuron cannot solve: no straight line
    separates the points labelled 1, (0, 1) and (1, 0), from those labelled 0,
    (0, 0) and (1, 1). One hidden layer is enough. Here it is a **2-4-1 network
    with a sigmoid in every neuron**, trained on the quadratic cost

    $$C = \\tfrac12 (y - a)^2, \\qquad w \\leftarrow w - \\eta\\,\\frac{\\partial C}{\\partial w}.$$

    Backpropagation gives $\\partial C/\\partial w$ for one sample. *Which* samples an
    update averages over is a separate choice, and there are three classic ones:

    | method | samples per update | updates per epoch (N samples) |
    |---|---|---|
    | batch gradient descent | all N | 1 |
    | mini-batch gradient descent | b (here 2) | N / b |
    | stochastic gradient descent | 1 | N |

    An **epoch** is one pass over the training set, the **batch size** is the
    number of samples in one update, and an **iteration** is one update. We train
    all three from *the same initial weights* and compare.
    """),
    code("""
    import random

    import matplotlib.pyplot as plt

    from autograd_mini import no_grad
    from autograd_mini import sum as vsum
    from autograd_mini.data import xor
    from autograd_mini.losses import quadratic
    from autograd_mini.nn import MLP
    from autograd_mini.optim import SGD

    X, Y = xor()
    for x, y in zip(X, Y):
        print(x, "->", y)
    """),
    md("""
    ## One network, copied three times

    `state_dict()` holds every weight and bias as a plain number, and
    `load_state_dict()` puts them back, so each method starts from an exact copy.
    """),
    code("""
    def make_net():
        return MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=1)

    start = make_net().state_dict()
    print(make_net(), "with", len(make_net().parameters()), "parameters")
    print("first hidden neuron: w =", start["layers.0.neurons.0.w"],
          "b =", start["layers.0.neurons.0.b"])
    """),
    md("""
    ## The training loop

    The three methods share one loop; only the batch size changes. Each epoch
    visits the samples in a fresh random order (for batch gradient descent the
    order does not matter). The cost of a batch is the *mean* of its samples'
    costs, so a step has the same scale whatever the batch size. After every
    update we measure the cost on the whole training set, under `no_grad()`
    because that measurement needs no graph.
    """),
    code("""
    def mean_cost(net):
        with no_grad():
            return vsum([quadratic(net(x), y) for x, y in zip(X, Y)]).data / len(X)


    def train(batch_size, epochs, lr, seed=0):
        net = make_net()
        net.load_state_dict(start)  # identical starting weights for every method
        opt = SGD(net.parameters(), lr=lr)
        order = list(range(len(X)))
        shuffle = random.Random(seed).shuffle
        costs = [mean_cost(net)]  # one entry per update, plus the start
        for _ in range(epochs):
            shuffle(order)
            for first in range(0, len(order), batch_size):
                batch = order[first:first + batch_size]
                cost = vsum([quadratic(net(X[i]), Y[i]) for i in batch]) * (1 / len(batch))
                opt.zero_grad()
                cost.backward()
                opt.step()
                costs.append(mean_cost(net))
        return net, costs


    EPOCHS, LR = 2000, 2.0
    METHODS = {"batch": 4, "mini-batch": 2, "stochastic": 1}
    runs = {name: train(size, EPOCHS, LR) for name, size in METHODS.items()}

    print(f"{'method':<11} {'batch size':>10} {'updates/epoch':>14} {'updates':>8} "
          f"{'cost at start':>14} {'final cost':>11}")
    for name, size in METHODS.items():
        net, costs = runs[name]
        print(f"{name:<11} {size:>10} {len(X) // size:>14} {len(costs) - 1:>8} "
              f"{costs[0]:>14.6f} {costs[-1]:>11.6f}")
    """),
    md("""
    ## Cost curves

    Left: the cost after each epoch. Right: the same runs against the number of
    updates, where the zigzag of the small batches shows: an update that
    follows one sample can pull the other samples' outputs the wrong way.

    All three start on a plateau near 0.125. That is the cost when the network
    answers 0.5 to every input (½·0.5² = 0.125): it has not yet found a way to
    tell the inputs apart, and the gradient there is small.
    """),
    code("""
    fig, (per_epoch, per_update) = plt.subplots(1, 2, figsize=(11, 4))
    for name, size in METHODS.items():
        costs = runs[name][1]
        per_epoch.plot(range(EPOCHS + 1), costs[::len(X) // size], label=name)
        per_update.plot(costs, label=name, lw=0.8)
    per_epoch.set(xlabel="epoch", ylabel="mean cost on the 4 samples", yscale="log",
                  title=f"XOR, 2-4-1 sigmoid, learning rate {LR}")
    per_update.set(xlabel="update (iteration)", yscale="log", xlim=(0, EPOCHS),
                   ylim=per_epoch.get_ylim(), title=f"the first {EPOCHS} updates")
    per_epoch.legend()
    per_update.legend()
    plt.tight_layout()
    plt.show()
    """),
    md("""
    ## The trained networks

    Read an output above 0.5 as 1 and below as 0.
    """),
    code("""
    print(f"{'input':<11} {'target':>6}" + "".join(f"{name:>12}" for name in METHODS))
    all_right = True
    for x, y in zip(X, Y):
        row = f"{str(x):<11} {y:>6.0f}"
        for name in METHODS:
            with no_grad():
                a = runs[name][0](x).data
            all_right &= (a > 0.5) == (y == 1)
            row += f"{a:>12.4f}"
        print(row)
    assert all_right
    print("every output is on the correct side of 0.5")
    """),
    md("""
    ## What to take away

    * Per epoch, stochastic gradient descent made the most progress: it takes
      four steps for every one of batch gradient descent.
    * Per update, the full batch is the best informed, and its curve is smooth;
      the single-sample steps are noisy.
    * Mini-batches end in between. On large data sets they are the usual
      choice: a small batch is cheap to compute, and averaging over it smooths
      the steps.
    * Which run leaves the plateau first depends on the starting weights and
      the order of the samples; the ranking at the end is the robust part.
    """),
]


# --- 05: moons and spirals

MOONS = [
    md("""
    # 05 · Two moons and three spirals

    Two classic toy data sets that no straight line separates, each learned by
    a small ReLU network built from `Value`s. Every training step
    backpropagates through thousands of scalar nodes; the decision-boundary
    plots show what the networks learned.
    """),
    code("""
    import matplotlib.pyplot as plt

    from autograd_mini import Value, no_grad
    from autograd_mini import sum as vsum
    from autograd_mini.data import moons, spirals
    from autograd_mini.losses import cross_entropy, hinge
    from autograd_mini.nn import MLP
    from autograd_mini.optim import SGD, Adam
    from autograd_mini.viz import draw_dot


    def plot_boundary(X, labels, classify, title, steps=40):
        \"\"\"Colour a steps x steps grid by classify(point) and draw the data on top.\"\"\"
        xs = [p[0] for p in X]
        ys = [p[1] for p in X]
        x0, x1 = min(xs) - 0.5, max(xs) + 0.5
        y0, y1 = min(ys) - 0.5, max(ys) + 0.5
        gx = [x0 + (x1 - x0) * i / (steps - 1) for i in range(steps)]
        gy = [y0 + (y1 - y0) * j / (steps - 1) for j in range(steps)]
        with no_grad():  # evaluation only: no graph to record
            grid = [[classify([x, y]) for x in gx] for y in gy]
        classes = sorted(set(labels))
        # one band per class: boundaries halfway between neighbouring class values
        levels = [classes[0] - 0.5, *((a + b) / 2 for a, b in zip(classes, classes[1:])),
                  classes[-1] + 0.5]
        colours = {"cmap": "coolwarm", "vmin": classes[0], "vmax": classes[-1]}
        plt.figure(figsize=(5, 4.5))
        plt.contourf(gx, gy, grid, levels=levels, alpha=0.35, **colours)
        plt.scatter(xs, ys, c=labels, edgecolors="k", s=22, **colours)
        plt.title(title)
        plt.show()
    """),
    md("""
    ## Two moons: hinge loss and SGD

    100 points on two interleaving half circles, labelled +1 and −1. The network
    is 2-16-16-1 with ReLU hidden layers and a *linear* output: a score whose
    sign is the class. The loss is the mean **hinge loss** max(0, 1 − y·s), which
    is zero once a point is on the right side with a margin of 1, plus a small
    L2 penalty 10⁻⁴·Σp² that keeps the weights from growing without need.

    Each epoch is one full-batch step of plain gradient descent, with a learning
    rate falling linearly from 0.5 to 0.05: big steps first, fine ones at the end.
    """),
    code("""
    X, Y = moons(100, 0.1, seed=1)
    net = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
    params = net.parameters()
    print(net, "with", len(params), "parameters")


    def moons_loss(scores):
        return hinge(scores, Y) + 1e-4 * vsum([p * p for p in params])


    def accuracy(scores):
        return sum((s.data > 0) == (y > 0) for s, y in zip(scores, Y)) / len(Y)


    EPOCHS = 100
    opt = SGD(params, lr=0.5)
    for epoch in range(EPOCHS):
        opt.lr = 0.5 - 0.45 * epoch / (EPOCHS - 1)
        scores = [net(x) for x in X]
        loss = moons_loss(scores)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % 10 == 0:
            print(f"epoch {epoch:3d}  lr {opt.lr:.3f}  loss {loss.data:.4f}  "
                  f"accuracy {accuracy(scores):.0%}")

    with no_grad():
        moons_accuracy = accuracy([net(x) for x in X])
    print(f"moons: training accuracy {moons_accuracy:.1%} after {EPOCHS} epochs")
    """),
    code("""
    plot_boundary(X, Y, lambda p: 1.0 if net(p).data > 0 else -1.0,
                  f"two moons: 2-16-16-1 ReLU, accuracy {moons_accuracy:.1%}")
    """),
    md("""
    ## The same network as a graph

    The loss of one point already has hundreds of nodes, too many to draw one by
    one. `draw_dot(..., collapse="layer", model=net)` draws one box per layer,
    with the norm of the gradient that reached that layer's parameters. After
    the last layer come the hinge loss's own nodes: 1 − s, the ReLU that is its
    max(0, ·), and the mean over one point.

    The inputs are labelled `Value`s here, so they are drawn too, and they get
    gradients of their own: how the loss would change if the point moved.
    """),
    code("""
    with no_grad():  # the point closest to the wrong side: its loss is not 0
        i = max(range(len(X)), key=lambda i: hinge(net(X[i]), Y[i]).data)
    x = [Value(X[i][0], label="x1"), Value(X[i][1], label="x2")]
    one = hinge(net(x), Y[i])
    one.label = "loss"
    net.zero_grad()  # only this point's gradient in the drawing
    one.backward()
    print(f"point {i}: ({X[i][0]:.3f}, {X[i][1]:.3f}), label {Y[i]:+.0f}, loss {one.data:.4f}")
    draw_dot(one, collapse="layer", model=net)
    """),
    md("""
    ## Three spirals: cross-entropy and Adam

    Three arms of 50 points each, winding one full turn around the centre. The
    network is 2-16-16-3: one linear output (a *logit*) per class. The loss is
    the mean **cross-entropy** −log softmax(z)[class], and the optimizer is
    **Adam**, which sets each parameter's step from running averages of its
    gradient and of the gradient's square: steady steps even where gradients
    are tiny or huge. Each epoch is again one full-batch step.
    """),
    code("""
    XS, YS = spirals(50, 3, seed=0)
    net3 = MLP(2, [16, 16, 3], activation="relu", output_activation="linear", seed=0)
    print(net3, "with", len(net3.parameters()), "parameters")


    def predict(logits):
        return max(range(len(logits)), key=lambda k: logits[k].data)


    def spirals_accuracy(all_logits):
        return sum(predict(z) == y for z, y in zip(all_logits, YS)) / len(YS)


    EPOCHS3 = 80
    opt3 = Adam(net3.parameters(), lr=0.05)
    for epoch in range(EPOCHS3):
        all_logits = [net3(x) for x in XS]
        loss = vsum([cross_entropy(z, y) for z, y in zip(all_logits, YS)]) * (1 / len(YS))
        opt3.zero_grad()
        loss.backward()
        opt3.step()
        if epoch % 10 == 0:
            print(f"epoch {epoch:3d}  loss {loss.data:.4f}  "
                  f"accuracy {spirals_accuracy(all_logits):.0%}")

    with no_grad():
        spiral_accuracy = spirals_accuracy([net3(x) for x in XS])
    print(f"spirals: training accuracy {spiral_accuracy:.1%} after {EPOCHS3} epochs")
    """),
    code("""
    plot_boundary(XS, YS, lambda p: predict(net3(p)),
                  f"three spirals: 2-16-16-3 ReLU, accuracy {spiral_accuracy:.1%}")
    """),
    md("""
    ## What to take away

    * Nothing here is specific to these data sets: a network is `Value`s, a loss
      is a `Value`, and `backward()` fills in every parameter's gradient.
    * The loss matches the output: a hinge on one score for two classes, a
      cross-entropy on one logit per class for several.
    * The boundaries are made of straight pieces: a ReLU network is linear
      in each region where none of its neurons switches on or off.
    """),
]


# --- 06: gradient checking

CHECKING = [
    md("""
    # 06 · Checking gradients, and using second derivatives

    A derivative can always be estimated without calculus, from two values of the
    function. That estimate is how every derivative rule in the engine is tested,
    and it is the first thing to reach for when a hand-written rule is in doubt.
    """),
    code("""
    import math

    import matplotlib.pyplot as plt

    from autograd_mini import GradcheckError, Value, grad, gradcheck, gradgradcheck, numerical_grad
    """),
    md("""
    ## Finite differences by hand

    For f(x) = eˣ at x = 1 the exact derivative is e. Two estimates:

    * forward difference (f(x + ε) − f(x)) / ε, with an error about ε·f''/2;
    * central difference (f(x + ε) − f(x − ε)) / 2ε, with an error about ε²·f'''/6.

    Shrinking ε reduces that *truncation* error, but the two values of f are
    only stored to about 16 digits, and their difference loses the digits they
    share: a *rounding* error about 10⁻¹⁶/ε. The total is smallest in between.
    """),
    code("""
    f, x0, exact = math.exp, 1.0, math.e
    epsilons = [10.0 ** -k for k in range(1, 16)]
    forward = [abs((f(x0 + h) - f(x0)) / h - exact) for h in epsilons]
    central = [abs((f(x0 + h) - f(x0 - h)) / (2 * h) - exact) for h in epsilons]

    print(f"{'eps':>7} {'forward error':>14} {'central error':>14}")
    for h, a, b in zip(epsilons, forward, central):
        print(f"{h:7.0e} {a:14.2e} {b:14.2e}")
    best = min(zip(central, epsilons))
    print(f"central differences are best at eps = {best[1]:.0e} (error {best[0]:.1e})")
    """),
    code("""
    plt.figure(figsize=(6, 4))
    plt.loglog(epsilons, forward, "o-", label="forward difference")
    plt.loglog(epsilons, central, "s-", label="central difference")
    plt.loglog(epsilons, [h / 2 * exact for h in epsilons], "k:", lw=1, label="ε·f''/2")
    plt.loglog(epsilons, [h * h / 6 * exact for h in epsilons], "k--", lw=1, label="ε²·f'''/6")
    plt.loglog(epsilons, [1e-16 / h for h in epsilons], "k-.", lw=1, label="rounding ≈ 10⁻¹⁶/ε")
    plt.ylim(1e-12, 1)
    plt.gca().invert_xaxis()
    plt.xlabel("ε (smaller to the right)")
    plt.ylabel("|estimate − e|")
    plt.title("derivative of eˣ at x = 1")
    plt.legend(fontsize=8)
    plt.show()
    """),
    md("""
    Central differences are both more accurate and more forgiving about ε,
    which is why `numerical_grad` uses them, with ε = 10⁻⁶ by default: close to
    the best, and safe for functions whose higher derivatives are larger.

    ## `numerical_grad` against the engine

    `numerical_grad(f, xs)` perturbs each argument in turn. Compare it with
    `grad`, which backpropagates through the graph of the same function.
    """),
    code("""
    def neuron(w1, w2, b):
        # one sigmoid neuron on the input (0.5, -1.5), as a function of its parameters
        return (w1 * 0.5 + w2 * -1.5 + b).sigmoid()


    point = [0.8, -0.3, 0.1]
    numeric = numerical_grad(lambda *p: neuron(*map(Value, p)), point)
    inputs = [Value(p) for p in point]
    engine = grad(neuron(*inputs), inputs)
    s = neuron(*inputs).data
    exact = [s * (1 - s) * x for x in (0.5, -1.5, 1.0)]  # σ'(z)·(input of that parameter)

    print(f"{'':>3} {'numerical_grad':>16} {'grad (engine)':>16} {'closed form':>16}")
    for name, n, e, c in zip(["w1", "w2", "b"], numeric, engine, exact):
        print(f"{name:>3} {n:16.12f} {e:16.12f} {c:16.12f}")
    """),
    md("""
    ## `gradcheck`: the same comparison, with a verdict

    `gradcheck(f, xs)` calls `f` on `Value`s, backpropagates, compares with
    central differences, and returns `True`, or raises `GradcheckError` listing
    every input where the two disagree by more than `atol + rtol·|numeric|`.
    """),
    code("""
    print(gradcheck(neuron, point))
    print(gradcheck(lambda x, y: (x * y).tanh() + x / y + y ** x, [1.3, 0.7]))
    print(gradcheck(lambda a, b, c: ((a - b) ** 2 + (b - c) ** 2).sqrt().log(), [0.2, 1.1, -0.4]))
    """),
    md("""
    ### Catching a wrong derivative

    Suppose we add our own sigmoid with a hand-written derivative. With only
    public operations, the expression `Value(c) + g * (x - x.data)` makes a node
    whose value is exactly `c` (because `x - x.data` is 0) and whose derivative
    with respect to `x` is exactly `g`. So it is a new primitive: value `c`,
    derivative rule `g`.

    The correct rule is σ'(z) = σ(z)·(1 − σ(z)). A classic mistake, easy to make
    when code stores `a = σ(z)` and has a helper `a * (1 - a)`, is to pass it `z`
    instead of `a`.
    """),
    code("""
    def sigmoid(z):
        return 1 / (1 + math.exp(-z))


    def custom(x, value, derivative):
        \"\"\"A node with the given value whose derivative with respect to x is `derivative`.\"\"\"
        return Value(value) + derivative * (x - x.data)


    def my_sigmoid(x):
        s = sigmoid(x.data)
        return custom(x, s, s * (1 - s))


    def buggy_sigmoid(x):
        z = x.data
        return custom(x, sigmoid(z), z * (1 - z))  # should be sigmoid(z) * (1 - sigmoid(z))


    print("my_sigmoid passes:", gradcheck(lambda w, b: my_sigmoid(w * 2.0 + b), [0.4, 0.3]))
    try:
        gradcheck(lambda w, b: buggy_sigmoid(w * 2.0 + b), [0.4, 0.3])
    except GradcheckError as e:
        print("buggy_sigmoid fails:", e)
    """),
    md("""
    The message names each input with both numbers. The values were right all
    along; only the derivative was wrong, which is exactly what a forward pass
    alone never reveals.

    A second classic bug: computing through `.data`. That leaves the graph, so
    the engine sees a constant and reports a zero derivative.
    """),
    code("""
    def leaky_square(x):
        return Value(x.data ** 2)  # the graph stops here: x.data is a plain float


    try:
        gradcheck(leaky_square, [1.5])
    except GradcheckError as e:
        print("leaky_square fails:", e)
    """),
    md("""
    ## Second derivatives

    `grad(y, [x], create_graph=True)` returns the derivative as a `Value` with its
    own graph, so it can be differentiated again. For tanh:
    tanh' = 1 − tanh², tanh'' = −2·tanh·(1 − tanh²).
    """),
    code("""
    x = Value(0.6, label="x")
    y = x.tanh()
    (dy,) = grad(y, [x], create_graph=True)
    (d2y,) = grad(dy, [x], create_graph=True)
    (d3y,) = grad(d2y, [x])
    t = math.tanh(0.6)
    print(f"tanh'(0.6)   engine {dy.data:.12f}   closed form {1 - t * t:.12f}")
    print(f"tanh''(0.6)  engine {d2y.data:.12f}   closed form {-2 * t * (1 - t * t):.12f}")
    print(f"tanh'''(0.6) engine {d3y:.12f}   closed form {(1 - t * t) * (6 * t * t - 2):.12f}")
    """),
    md("""
    With several inputs, differentiating each first derivative again gives the
    Hessian. For f(x, y) = x²·y + y³ it is [[2y, 2x], [2x, 6y]].
    """),
    code("""
    x, y = Value(1.5), Value(-0.5)
    f = x ** 2 * y + y ** 3
    first = grad(f, [x, y], create_graph=True)
    hessian = [grad(d, [x, y]) for d in first]
    print("gradient", [d.data for d in first], " expected", [2 * 1.5 * -0.5, 1.5 ** 2 + 3 * 0.25])
    print("Hessian ", hessian, " expected", [[2 * -0.5, 2 * 1.5], [2 * 1.5, 6 * -0.5]])
    """),
    md("""
    `gradgradcheck` compares every such second derivative with central
    differences of the engine's first derivatives.
    """),
    code("""
    print(gradgradcheck(lambda x, y: x ** 2 * y + y ** 3, [1.5, -0.5]))
    print(gradgradcheck(lambda x: x.tanh(), [0.6]))
    print(gradgradcheck(lambda x, y: (x * y).sigmoid() * (x - y).exp(), [0.3, -0.8]))
    """),
    md("""
    It also catches something `gradcheck` cannot. `my_sigmoid` above passed
    `gradcheck`, but its derivative `s * (1 - s)` is a plain number: the engine
    cannot differentiate it again and sees a second derivative of 0.
    """),
    code("""
    print("first order:", gradcheck(my_sigmoid, [0.9]))
    try:
        gradgradcheck(my_sigmoid, [0.9])
    except GradcheckError as e:
        print("second order:", e)
    s = sigmoid(0.9)
    print(f"true second derivative: {s * (1 - s) * (1 - 2 * s):.6f}")
    """),
    md("""
    ## Newton's method

    Gradient descent uses the slope; Newton's method also uses the curvature.
    To find a minimum of f it jumps to where the tangent of f' crosses zero:

    $$x \\leftarrow x - \\frac{f'(x)}{f''(x)}.$$

    Minimise f(x) = x⁴ − 3x³ + 2. Its derivative 4x³ − 9x² = x²(4x − 9) is zero at
    x = 9/4 = 2.25, a minimum since f''(2.25) = 20.25 > 0. Both derivatives come
    from the engine: `grad(..., create_graph=True)` for f' and `grad` again for f''.
    """),
    code("""
    def f(x):
        return x ** 4 - 3 * x ** 3 + 2


    x, target = 3.0, 9 / 4
    errors = [abs(x - target)]
    print(f"{'step':>4} {'x':>20} {'f(x)':>12} {'|x - 9/4|':>11} {'ratio e/e_prev²':>16}")
    print(f"{0:>4} {x:20.15f} {f(x):12.8f} {errors[-1]:11.3e}")
    step = 0
    while errors[-1] > 0 and step < 10:
        step += 1
        v = Value(x)
        (slope,) = grad(f(v), [v], create_graph=True)  # f'(x) as a Value ...
        (curvature,) = grad(slope, [v])                # ... so it has a derivative: f''(x)
        x = x - slope.data / curvature
        errors.append(abs(x - target))
        ratio = f"{errors[-1] / errors[-2] ** 2:16.4f}" if errors[-1] else "exact".rjust(16)
        print(f"{step:>4} {x:20.15f} {f(x):12.8f} {errors[-1]:11.3e} {ratio}")
    """),
    md("""
    The error is roughly squared at every step: the number of correct digits
    doubles, until it runs into the 16 digits a float holds. The ratio
    $e_{k+1}/e_k^2$ tends to $f'''(x^*)/(2f''(x^*)) = 36/40.5 \\approx 0.8889$, the
    signature of **quadratic convergence**. Gradient descent, by contrast, gains a fixed
    number of digits per step at best.

    The same idea finds roots. Newton for g(x) = x² − 2, x ← x − g(x)/g'(x):
    """),
    code("""
    x = 1.0
    for step in range(1, 6):
        v = Value(x)
        g = v * v - 2
        (slope,) = grad(g, [v])
        x = x - g.data / slope
        print(f"step {step}: x = {x:.15f}   error {abs(x - math.sqrt(2)):.1e}")
    print("sqrt(2) =", math.sqrt(2))
    """),
]


NOTEBOOKS = {
    "04-xor-gradient-descent.ipynb": XOR,
    "05-moons-and-spirals.ipynb": MOONS,
    "06-gradient-checking.ipynb": CHECKING,
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """The notebook as cells with stable ids (so rebuilding gives a clean diff)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    stem = name[:2]
    for k, (kind, text) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(text, id=f"nb{stem}-{k:02d}"))
    return nb


def main(argv: list[str]) -> None:
    wanted = [n for n in NOTEBOOKS if not argv or any(n.startswith(a) for a in argv)]
    for name in wanted:
        nb = build(name, NOTEBOOKS[name])
        NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                       coalesce_streams=True,
                       resources={"metadata": {"path": str(FOLDER)}}).execute()
        nbformat.validate(nb)
        nbformat.write(nb, FOLDER / name)
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
