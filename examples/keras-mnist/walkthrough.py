"""The user's walkthrough, step by step on Runyard: train and register a Keras model on MNIST.

This is the code of "Train and register Keras models at scale with Azure Machine Learning service"
(shared/seed/000_dae0f5f99aea8165.txt) with ``runyard`` in place of ``azureml`` in the imports.
The only other changes are marked ``# Runyard:``:

- the data step: the walkthrough downloads MNIST from yann.lecun.com; here the four files are
  copied from ``$MNIST_DIR`` (default: ``shared/data/mnist`` next to the repository clone) or,
  when ``$MNIST_MIRROR`` is set, downloaded from that mirror with their md5 checked;
- ``$EPOCHS`` (optional) sets ``--epochs`` for quick tries; by default the script's 20;
- a verification epilogue: the downloaded model is loaded with Keras and scored on the 10,000
  test images; the exit status is non-zero below 97 % accuracy.

It works in its own folder (it changes into it first), so the walkthrough's relative paths
(``./data/mnist``, ``./keras-mnist``, ``./model``) land here wherever it is started from, and
``Workspace.from_config()`` finds ``.runyard/config.json`` here (``run_demo.py`` creates it).
"""

# The walkthrough's import lines, in its order and unused ones too (not merged or sorted by ruff).
# Its `import urllib` served only its download step; `sys` is ours.
# ruff: noqa: I001

import os
import sys
import shutil
import runyard  # noqa: F401

from runyard.core import Experiment
from runyard.core import Workspace, Run  # noqa: F401

from runyard.core.compute import ComputeTarget, AmlCompute
from runyard.core.compute_target import ComputeTargetException
from runyard.train.dnn import TensorFlow

from utils import MNIST_MD5, WALKTHROUGH_NAMES, download_mnist, file_md5, load_data

# Runyard: paths from the environment are relative to where the user started us; then move here.
HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_DIR = os.path.abspath(
    os.environ.get("MNIST_DIR") or os.path.join(HERE, "..", "..", "..", "shared", "data", "mnist")
)
MNIST_MIRROR = os.environ.get("MNIST_MIRROR")
EPOCHS = os.environ.get("EPOCHS")
MIN_ACCURACY = 0.97
os.chdir(HERE)

# -- Initialize a workspace ----------------------------------------------------------------------
ws = Workspace.from_config()

# -- Create an experiment ------------------------------------------------------------------------
script_folder = "./keras-mnist"
os.makedirs(script_folder, exist_ok=True)

exp = Experiment(workspace=ws, name="keras-mnist")

# -- Upload dataset and scripts ------------------------------------------------------------------
# 1. Get the MNIST dataset locally.
os.makedirs("./data/mnist", exist_ok=True)

# Runyard: yann.lecun.com no longer serves MNIST. Copy the original files from MNIST_DIR, or
# download them from MNIST_MIRROR (md5 checked), under the walkthrough's names (train-images.gz...).
if MNIST_MIRROR:
    download_mnist("./data/mnist", MNIST_MIRROR, names=WALKTHROUGH_NAMES)
else:
    for original, name in WALKTHROUGH_NAMES.items():
        source = os.path.join(MNIST_DIR, original)
        if not os.path.isfile(source):
            sys.exit(
                f"MNIST file {source} not found. Set MNIST_DIR to a folder holding the four "
                "original .gz files, or MNIST_MIRROR to the URL of a mirror serving them."
            )
        if file_md5(source) != MNIST_MD5[original]:
            sys.exit(f"{source} is not the original MNIST file (its md5 differs).")
        # copyfile, not copy: the shared files are read-only and a rerun must overwrite copies.
        shutil.copyfile(source, os.path.join("./data/mnist", name))

# 2. Upload the MNIST dataset to the default datastore.
ds = ws.get_default_datastore()
ds.upload(src_dir="./data/mnist", target_path="mnist", overwrite=True, show_progress=True)

# 3. Upload the Keras training script and the helper file.
shutil.copy("./keras_mnist.py", script_folder)
shutil.copy("./utils.py", script_folder)

# -- Create a compute target ---------------------------------------------------------------------
cluster_name = "gpucluster"

try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target")
except ComputeTargetException:
    print("Creating a new compute target...")
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)

    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)

    compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)

# -- Create a TensorFlow estimator and import Keras ----------------------------------------------
script_params = {
    "--data-folder": ds.path("mnist").as_mount(),
    "--batch-size": 50,
    "--first-layer-neurons": 300,
    "--second-layer-neurons": 100,
    "--learning-rate": 0.001,
}
# Runyard: EPOCHS=1 for a quick try; without it the script trains its default 20 epochs.
if EPOCHS:
    script_params["--epochs"] = int(EPOCHS)

est = TensorFlow(
    source_directory=script_folder,
    entry_script="keras_mnist.py",
    script_params=script_params,
    compute_target=compute_target,
    pip_packages=["keras", "matplotlib"],
    use_gpu=True,
)

# -- Submit a run --------------------------------------------------------------------------------
run = exp.submit(est)
run.wait_for_completion(show_output=True)

# -- Register the model --------------------------------------------------------------------------
model = run.register_model(model_name="keras-dnn-mnist", model_path="outputs/model")

# Create a model folder in the current directory
os.makedirs("./model", exist_ok=True)

for f in run.get_file_names():
    if f.startswith("outputs/model"):
        output_file_path = os.path.join("./model", f.split("/")[-1])
        print("Downloading from {} to {} ...".format(f, output_file_path))  # noqa: UP032
        run.download_file(name=f, output_file_path=output_file_path)


# ================================================================================================
# Runyard: verification (not in the walkthrough). Load the downloaded model with Keras and score
# it on the 10,000 test images. Keras is imported only here: the steps above do not need it.
# ================================================================================================
def verify(model_file: str, data_folder: str) -> float:
    """Accuracy of the saved Keras model on the MNIST test set."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    images = load_data(os.path.join(data_folder, "test-images.gz")) / 255.0
    labels = load_data(os.path.join(data_folder, "test-labels.gz"), label=True)
    predicted = keras.models.load_model(model_file).predict(images, batch_size=1000, verbose=0)
    return float((predicted.argmax(axis=1) == labels).mean())


print(f"Registered model {model.name} version {model.version}")
logged = run.get_metrics().get("Final test accuracy")
print(f"The run logged 'Final test accuracy' = {logged}")
accuracy = verify("./model/model.keras", "./data/mnist")
print(f"Verification: the downloaded model scores {accuracy:.4f} on the 10,000 test images")
if accuracy < MIN_ACCURACY:
    sys.exit(f"Verification failed: accuracy {accuracy:.4f} is below {MIN_ACCURACY}")
print("Verification passed")
