from setuptools import find_packages, setup

setup(
    name="micrograd",
    version="1.0.0",
    description="A tiny scalar autograd engine and a neural-network library on top of it",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    packages=find_packages(include=["micrograd", "micrograd.*"]),
    # the GPT demo's names, and the explorer's page template
    package_data={"micrograd": ["data/names.txt", "data/names.LICENSE", "explorer.html"]},
    python_requires=">=3.9",
    install_requires=[],  # the engine is standard library only
    extras_require={
        "viz": ["graphviz"],
        "demo": ["scikit-learn", "matplotlib"],
        "fast": ["numpy"],
        # what drawing, the explorer, the demo, compile and the notebooks use (not torch: see "test");
        # drawing and the explorer also need Graphviz's dot program, which pip cannot install
        "all": ["graphviz", "scikit-learn", "matplotlib", "numpy", "notebook"],
        "torch": ["torch>=2.0"],  # interop; install the pinned CPU build first, as for "test"
        # install the pinned CPU build first (pip install torch==2.13.0): an unpinned
        # torch with none installed pulls a CUDA build of several GB
        "test": ["torch>=2.0", "pytest", "hypothesis", "nbclient", "nbformat", "ipykernel",
                 "graphviz", "scikit-learn", "matplotlib", "numpy",
                 "mpmath",  # the exact reference the op accuracy tests measure ulps against
                 "playwright"],  # drives the system's chromium in the explorer's browser tests
    },
    entry_points={"console_scripts": ["micrograd-demo=micrograd.demo:main"]},
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Intended Audience :: Education",
    ],
)
