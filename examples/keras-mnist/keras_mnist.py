"""Train a Keras (3, on TensorFlow) multi-layer perceptron on MNIST and log it to Runyard.

The training script of the Azure ML "train-hyperparameter-tune-deploy-with-keras" sample, ported
to Keras 3. Submitted by the walkthrough (or by HyperDrive) it logs into its run; run by hand,
``Run.get_context()`` returns an offline run that prints what is logged::

    python keras_mnist.py --data-folder ../../../shared/data/mnist --epochs 2
"""

import argparse
import os
import time

# Before TensorFlow is imported: pin Keras 3 to TensorFlow (the estimator installs it), and keep
# TensorFlow's C++ INFO/WARNING lines (device set-up, retracing) out of the run's log. The few lines
# TensorFlow prints before its logging is initialised show anyway. Both stay overridable.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import matplotlib

matplotlib.use("Agg")  # no display on a compute node

import matplotlib.pyplot as plt
import tensorflow as tf
from keras.callbacks import Callback
from keras.layers import Dense, Input
from keras.models import Sequential
from keras.optimizers import RMSprop
from utils import find_mnist_files, load_data, one_hot_encode

from runyard.core import Run

print("Keras version:", keras.__version__)
print("TensorFlow version:", tf.__version__)
print("GPUs:", [d.name for d in tf.config.list_physical_devices("GPU")] or "none")

parser = argparse.ArgumentParser()
parser.add_argument(
    "--data-folder", type=str, dest="data_folder", default="data", help="data folder mount point"
)
parser.add_argument(
    "--batch-size", type=int, dest="batch_size", default=50, help="mini batch size for training"
)
parser.add_argument(
    "--first-layer-neurons",
    type=int,
    dest="n_hidden_1",
    default=300,
    help="# of neurons in the first layer",
)
parser.add_argument(
    "--second-layer-neurons",
    type=int,
    dest="n_hidden_2",
    default=100,
    help="# of neurons in the second layer",
)
parser.add_argument(
    "--learning-rate", type=float, dest="learning_rate", default=0.001, help="learning rate"
)
parser.add_argument("--epochs", type=int, dest="epochs", default=20, help="number of epochs")
args = parser.parse_args()

data_folder = args.data_folder
print("training dataset is stored here:", data_folder)

files = find_mnist_files(data_folder)
X_train = load_data(files["train-images-idx3-ubyte.gz"], False) / 255.0
X_test = load_data(files["t10k-images-idx3-ubyte.gz"], False) / 255.0
y_train = load_data(files["train-labels-idx1-ubyte.gz"], True)
y_test = load_data(files["t10k-labels-idx1-ubyte.gz"], True)

training_set_size = X_train.shape[0]

n_inputs = 28 * 28
n_h1 = args.n_hidden_1
n_h2 = args.n_hidden_2
n_outputs = 10
learning_rate = args.learning_rate
n_epochs = args.epochs
batch_size = args.batch_size

y_train = one_hot_encode(y_train, n_outputs)
y_test = one_hot_encode(y_test, n_outputs)
print(X_train.shape, y_train.shape, X_test.shape, y_test.shape, sep="\n")

# Build a simple MLP model
model = Sequential(
    [
        Input(shape=(n_inputs,)),
        Dense(n_h1, activation="relu"),
        Dense(n_h2, activation="relu"),
        Dense(n_outputs, activation="softmax"),
    ]
)
model.summary()

model.compile(
    loss="categorical_crossentropy",
    optimizer=RMSprop(learning_rate=learning_rate),
    metrics=["accuracy"],
)

# start a Runyard run (an offline run when this script is run by hand)
run = Run.get_context()


class LogRunMetrics(Callback):
    # callback at the end of every epoch
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        # log a value repeated which creates a list
        run.log("Loss", float(logs["val_loss"]))
        run.log("Accuracy", float(logs["val_accuracy"]))


started = time.perf_counter()
history = model.fit(
    X_train,
    y_train,
    batch_size=batch_size,
    epochs=n_epochs,
    verbose=2,
    validation_data=(X_test, y_test),
    callbacks=[LogRunMetrics()],
)
elapsed = time.perf_counter() - started
print(f"Training took {elapsed:.1f} s ({elapsed / max(n_epochs, 1):.1f} s per epoch)")

score = model.evaluate(X_test, y_test, verbose=0)

# log a single value
run.log("Final test loss", float(score[0]))
print("Test loss:", score[0])

run.log("Final test accuracy", float(score[1]))
print("Test accuracy:", score[1])

plt.figure(figsize=(6, 3))
plt.title(f"MNIST with Keras MLP ({n_epochs} epochs)", fontsize=14)
plt.plot(history.history["val_accuracy"], "b-", label="Accuracy", lw=4, alpha=0.5)
plt.plot(history.history["val_loss"], "r--", label="Loss", lw=4, alpha=0.5)
plt.legend(fontsize=12)
plt.grid(True)

# log an image
run.log_image("Accuracy vs Loss", plot=plt)

# files saved in the "./outputs" folder are uploaded into the run's history
os.makedirs("./outputs/model", exist_ok=True)

# the whole model, in Keras 3's native format
model.save("./outputs/model/model.keras")
# and, as the original sample did, the architecture as JSON plus the weights
# (Keras 3 requires weight files to end in ".weights.h5")
with open("./outputs/model/model.json", "w") as f:
    f.write(model.to_json())
model.save_weights("./outputs/model/model.weights.h5")
print("model saved in ./outputs/model folder")
