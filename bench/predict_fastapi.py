"""The peer for Ouro's serving benchmark: FastAPI + PyTorch serving the same network.

The weights come from Ouro's saved model (tfjs Dense layers: kernel [in, out], bias [out]),
so both servers compute the same function. Request validation by a pydantic model with the
same 20 float fields, as a FastAPI user would write it.

    python3 bench/predict_fastapi.py <saved-model.json> <port>
"""
import base64
import json
import sys

import numpy as np
import torch
import uvicorn
from fastapi import FastAPI
from pydantic import create_model

saved = json.load(open(sys.argv[1]))
port = int(sys.argv[2])
torch.set_num_threads(1)

weights = np.frombuffer(base64.b64decode(saved["weights"]), dtype="<f4")
tensors, at = [], 0
for spec in saved["weightSpecs"]:
    n = int(np.prod(spec["shape"]))
    tensors.append(weights[at:at + n].reshape(spec["shape"]))
    at += n
layers = []
for kernel, bias in zip(tensors[0::2], tensors[1::2]):
    linear = torch.nn.Linear(kernel.shape[0], kernel.shape[1])
    linear.weight.data = torch.tensor(kernel.T.copy())
    linear.bias.data = torch.tensor(bias.copy())
    layers += [linear, torch.nn.ReLU()]
model = torch.nn.Sequential(*layers[:-1]).eval()

names = [f["name"] for f in saved["signature"]["features"]]
scaling = saved.get("inputScaling")
mean = np.array(scaling["mean"], dtype="f4") if scaling else np.zeros(len(names), "f4")
std = np.array(scaling["std"], dtype="f4") if scaling else np.ones(len(names), "f4")
target = saved.get("targetScaling") or {"mean": 0.0, "std": 1.0}
Row = create_model("Row", **{n: (float, ...) for n in names})

app = FastAPI()


@app.post("/predict")
def predict(row: Row):
    x = (np.array([getattr(row, n) for n in names], dtype="f4") - mean) / std
    with torch.no_grad():
        y = model(torch.from_numpy(x).unsqueeze(0)).item()
    return {"value": y * target["std"] + target["mean"]}


if __name__ == "__main__":
    print("FASTAPI_READY", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
